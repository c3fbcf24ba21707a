"""FastPixelCNN in `tf.compat.v1` graph mode (a Graph run by a Session), as
TFP's own PixelCNN tests run each check: seeds, teacher forcing, completion
and sample_and_log_prob; and the draws are the very images the eager
program draws on the same weights, which test_exactness.py enumerates."""

import numpy as np
import pytest
import tensorflow as tf

from tfp_fastpixel import FastPixelCNN
from tfp_fastpixel import _execution
from tfp_fastpixel import mixture

pytestmark = pytest.mark.slow

CONFIG = dict(
    image_shape=(4, 4, 3),
    conditional_shape=(),
    num_resnet=1,
    num_hierarchies=2,
    num_filters=6,
    num_logistic_mix=2,
    high=5,
    dropout_p=0.0,
)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["graph", "xla"])
def test_graph_mode_sampling_is_exact_and_reproducible(jit_compile):
  with tf.Graph().as_default():
    dist = FastPixelCNN(jit_compile=jit_compile, **CONFIG)
    cond = tf.constant([1.0, 2.0, 3.0])
    samples = dist.sample(3, seed=5, conditional_input=cond)
    again = dist.sample(3, seed=5, conditional_input=cond)  # another op
    fresh = dist.sample(3, conditional_input=cond)  # seed=None
    with_params, params = _execution.sample_with_params(
        dist, 3, seed=5, conditional_input=cond
    )
    x = mixture.to_network_scale(with_params, 0.0, 5.0)
    reference = dist.network([x, cond], training=False)
    drawn, lp = dist.experimental_sample_and_log_prob(
        3, seed=6, conditional_input=cond
    )
    lp_ref = dist.log_prob(drawn, conditional_input=cond)
    done = dist.complete(
        samples, 6, sample_shape=2, seed=9, conditional_input=cond
    )
    with tf.compat.v1.Session() as sess:
      # A v1 initializer undoes the constructor's masks; the first
      # sampling run must redo them before it samples.
      sess.run(tf.compat.v1.global_variables_initializer())
      # Two runs: each new set of fetches makes the Session prune and
      # optimise the graph again.
      a, f1 = sess.run([samples, fresh])
      got = sess.run(
          dict(
              b=again,
              f2=fresh,
              w=with_params,
              p=params,
              r=reference,
              d=drawn,
              lp=lp,
              lp_ref=lp_ref,
              c=done,
              weights=dist.network.weights,
          )
      )
  np.testing.assert_array_equal(a, got["b"])  # a seed reproduces
  assert not np.array_equal(f1, got["f2"])  # no seed: fresh draws
  np.testing.assert_array_equal(got["w"], a)  # same seed, same images
  worst = max(np.abs(pi - ri).max() for pi, ri in zip(got["p"], got["r"]))
  assert worst <= 1e-4, worst  # teacher forcing
  np.testing.assert_allclose(got["lp"], got["lp_ref"], atol=1e-4, rtol=0)
  c = got["c"]
  assert c.shape == (2, 3, 4, 4, 3)
  np.testing.assert_array_equal(
      c.reshape(2, 3, 16, 3)[:, :, :6],
      np.broadcast_to(a.reshape(3, 16, 3)[:, :6], (2, 3, 6, 3)),
  )
  # The eager program on the same weights draws the very same images. In a
  # v1 graph weight norm's data-dependent init does not take effect (g keeps
  # its initial value and the flags stay False), so the eager copy is told
  # that these weights are ready as they are.
  eager = FastPixelCNN(jit_compile=jit_compile, **CONFIG)
  eager.network.set_weights(got["weights"])
  for v in eager.network.weights:
    if v.name.endswith("initialized:0"):
      v.assign(True)
  np.testing.assert_array_equal(
      eager.sample(3, seed=5, conditional_input=[1.0, 2.0, 3.0]), a
  )
