"""What the package relies on in TensorFlow's private APIs (`_tf_compat`): if
an upgrade changes one of these, this file fails first, and says which."""

import numpy as np
import tensorflow as tf
from tensorflow.python.eager import context

from tfp_fastpixel import _tf_compat


def test_per_thread_call_options_exist_and_are_restored():
  ctx = context.context()
  assert hasattr(ctx, "function_call_options"), "TF moved its call options"
  before = _tf_compat.call_options()
  assert before is not None
  seen = {}

  @tf.function
  def f(x):
    return tf.reduce_sum(x * 2.0 + 1.0)

  for off in (False, True):
    with _tf_compat.graph_optimizer(off=off):
      config = tf.compat.v1.ConfigProto()
      config.ParseFromString(_tf_compat.call_options())
      seen[off] = config.graph_options.rewrite_options
      assert float(f(tf.ones([3]))) == 9.0  # calls still run
    assert _tf_compat.call_options() == before  # and the caller's come back
  lean, off = seen[False], seen[True]
  assert off.disable_meta_optimizer
  assert not lean.disable_meta_optimizer
  assert lean.constant_folding == lean.OFF and lean.remapping != lean.OFF


def test_call_flat_runs_a_concrete_function_on_flat_tensors():
  v = tf.Variable(3.0)  # a capture, passed by call_flat itself

  @tf.function
  def f(x, y):
    return {"sum": x + y * v, "x": x}

  concrete = f.get_concrete_function(
      tf.TensorSpec([2], tf.float32), tf.TensorSpec([], tf.float32)
  )
  x, y = tf.constant([1.0, 2.0]), tf.constant(4.0)
  flat = _tf_compat.call_flat(concrete, [x, y])
  want = concrete(x, y)
  got = tf.nest.pack_sequence_as(
      concrete.structured_outputs, tf.nest.flatten(flat)
  )
  np.testing.assert_array_equal(got["sum"], want["sum"])
  np.testing.assert_array_equal(got["x"], want["x"])
