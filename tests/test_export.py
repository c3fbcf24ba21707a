"""`export_saved_model`: a SavedModel that a process with only TensorFlow
(no TFP, no tf_keras, no tfp_fastpixel) loads and runs, and that draws the
live model's images for a seed."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from tfp_fastpixel import FastPixelCNN
from tfp_fastpixel import export_saved_model

pytestmark = pytest.mark.slow

# Runs in a child process in which the packages below cannot be imported;
# loads each export named on its command line (one TensorFlow start for all).
_LOADER = textwrap.dedent("""
    import json, sys
    for name in ("tensorflow_probability", "tf_keras", "tfp_fastpixel"):
      sys.modules[name] = None  # any import of them now fails
    import numpy as np
    import tensorflow as tf
    args = sys.argv[1:]
    for export_dir, out, conditional in zip(args[::3], args[1::3], args[2::3]):
      m = tf.saved_model.load(export_dir)
      cond = {}
      if conditional == "1":
        cond = dict(conditional_input=tf.constant([1., 2., 3.]))
      x = m.sample(n=tf.constant(3), seed=tf.constant([1, 2]), **cond)
      lp = m.log_prob(images=x, **cond)
      y = m.complete(images=x, num_observed=tf.constant(5),
                     seed=tf.constant([3, 4]), **cond)
      sig = m.signatures["serving_default"](n=tf.constant(3),
                                            seed=tf.constant([1, 2]), **cond)
      np.savez(out, x=x, lp=lp, y=y, sig=sig["images"])
      print(json.dumps(sorted(m.signatures.keys())))
""")


def _export_and_draw(conditional, tmp_path):
  """Exports a tiny model; returns (export dir, what the live model draws)."""
  tf.keras.utils.set_random_seed(1)
  dist = FastPixelCNN(
      image_shape=(4, 4, 3),
      num_resnet=1,
      num_hierarchies=2,
      num_filters=4,
      num_logistic_mix=2,
      high=7,
      conditional_shape=() if conditional else None,
  )
  name = "conditional" if conditional else "unconditional"
  export_dir = export_saved_model(dist, str(tmp_path / name), verbose=False)
  cond = (
      dict(conditional_input=tf.constant([1.0, 2.0, 3.0]))
      if conditional
      else {}
  )
  x = dist.sample(3, seed=[1, 2], **cond)
  live = dict(
      x=x,
      lp=dist.log_prob(x, **cond),
      y=dist.complete(x, 5, seed=[3, 4], **cond),
  )
  return export_dir, live


def test_export_runs_without_tfp_and_matches_live(tmp_path, subprocess_env):
  argv, lives = [], []
  for conditional in (True, False):
    export_dir, live = _export_and_draw(conditional, tmp_path)
    out = str(tmp_path / f"loaded_{int(conditional)}.npz")
    argv += [export_dir, out, str(int(conditional))]
    lives.append((out, live))
  proc = subprocess.run(
      [sys.executable, "-c", _LOADER] + argv,
      env=subprocess_env,
      capture_output=True,
      text=True,
      timeout=300,
      check=False,
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  printed = proc.stdout.strip().splitlines()[-2:]
  assert [json.loads(line) for line in printed] == 2 * [
      ["complete", "log_prob", "sample", "serving_default"]
  ]
  for out, live in lives:
    loaded = np.load(out)
    np.testing.assert_array_equal(loaded["x"], live["x"])  # same images
    np.testing.assert_array_equal(loaded["sig"], live["x"])
    np.testing.assert_allclose(loaded["lp"], live["lp"], atol=1e-5, rtol=0)
    np.testing.assert_array_equal(loaded["y"], live["y"])


def test_export_checks_its_arguments(tmp_path):
  dist = FastPixelCNN(
      image_shape=(2, 2, 1),
      num_resnet=1,
      num_hierarchies=1,
      num_filters=2,
      num_logistic_mix=1,
      high=3,
  )
  with pytest.raises(TypeError, match="`dist`"):
    export_saved_model(object(), str(tmp_path / "a"))
  full = tmp_path / "full"
  full.mkdir()
  (full / "x").write_text("x")
  with pytest.raises(ValueError, match="`export_dir`"):
    export_saved_model(dist, str(full))


def test_exported_functions_check_runtime_input(tmp_path):
  dist = FastPixelCNN(
      image_shape=(2, 2, 1),
      conditional_shape=(),
      num_resnet=1,
      num_hierarchies=1,
      num_filters=2,
      num_logistic_mix=1,
      high=3,
  )
  m = tf.saved_model.load(
      export_saved_model(dist, str(tmp_path / "e"), verbose=False)
  )
  x = m.sample(
      n=tf.constant(2),
      seed=tf.constant([1, 2]),
      conditional_input=tf.zeros([2]),
  )
  with pytest.raises(tf.errors.InvalidArgumentError, match="num_observed"):
    m.complete(
        images=x,
        num_observed=tf.constant(5),
        seed=tf.constant([1, 2]),
        conditional_input=tf.zeros([2]),
    )
  with pytest.raises(tf.errors.InvalidArgumentError, match="conditional_input"):
    m.sample(
        n=tf.constant(2),
        seed=tf.constant([1, 2]),
        conditional_input=tf.zeros([3]),
    )
  assert os.path.exists(os.path.join(str(tmp_path / "e"), "saved_model.pb"))
