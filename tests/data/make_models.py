"""Writes the tiny models the tests load, and the images they must draw.

    python tests/data/make_models.py

Two kinds of file, each `<name>.npz` in this folder:

* `exact_*`: the enumeration test's models (`test_exactness.py`), trained
  here for a few seconds each on peaked, correlated, label-dependent images
  (`synthetic_images`), so that the test suite does not train them again.
* `forcing_*`: some of teacher forcing's untrained models (`RECORDED`),
  with the images each of the generator's programs draws on them for a
  fixed seed. `test_teacher_forcing.py` checks that the programs still draw
  them, bit for bit.

Every file holds the network's weights (`w000`, `w001`, ...) and the
constructor's arguments as JSON (`config`). Rerun this script only when a
model or a program is meant to change what it draws, and say so in the
commit.
"""

import itertools
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# The enumeration test's models: small enough to enumerate every image
# (256 or 4096 of them) for the two labels.
EXACT = {
    # Level 1 of the hierarchy is 1x1: exercises the down/up path and the
    # weight-norm guard for channels that see only padding.
    "exact_gray_2x2_high3_hier2": dict(
        image_shape=(2, 2, 1),
        high=3,
        num_hierarchies=2,
        num_filters=12,
        num_logistic_mix=3,
    ),
    # high=1 maximises the gap between quantized and unrounded feedback;
    # 3 channels exercise the RGB coupling.
    "exact_rgb_2x2_high1": dict(
        image_shape=(2, 2, 3),
        high=1,
        num_hierarchies=1,
        num_filters=12,
        num_logistic_mix=3,
    ),
}
EXACT_LABELS = (0, 1)

# Teacher forcing's models (`test_teacher_forcing.py`): small, untrained,
# but every structural option: levels 1-3, receptive fields, activations,
# weight norm on/off, conditioning, channels, ranges, dtypes.
FORCING = {
    "k1_gray": dict(image_shape=(4, 4, 1), num_hierarchies=1, high=3),
    "k2_cond_scalar_elu": dict(
        image_shape=(4, 6, 1),
        num_hierarchies=2,
        conditional_shape=(),
        resnet_activation="elu",
        use_weight_norm=False,
    ),
    "k3_rgb_cond_vector_relu": dict(
        image_shape=(8, 8, 3),
        num_hierarchies=3,
        conditional_shape=(2,),
        resnet_activation="relu",
    ),
    "k3_rf_3x5_two_channels": dict(
        image_shape=(8, 4, 2),
        num_hierarchies=3,
        receptive_field_dims=(3, 5),
        num_resnet=2,
    ),
    "k2_rf_5x3_cond": dict(
        image_shape=(4, 4, 3),
        num_hierarchies=2,
        receptive_field_dims=(5, 3),
        conditional_shape=(),
        low=2,
        high=9,
    ),
    "k2_rf_4x3": dict(
        image_shape=(6, 6, 1), num_hierarchies=2, receptive_field_dims=(4, 3)
    ),
    "k1_rf_2x1": dict(
        image_shape=(3, 5, 1), num_hierarchies=1, receptive_field_dims=(2, 1)
    ),
    "k3_float64": dict(
        image_shape=(4, 8, 3),
        num_hierarchies=3,
        dtype="float64",
        conditional_shape=(3,),
    ),
}
# Those whose weights and draws are saved, so that no restructuring of the
# sampler changes a drawn pixel unnoticed: gray and RGB, conditional or
# not, 1-3 levels.
RECORDED = (
    "k1_gray",
    "k2_cond_scalar_elu",
    "k3_rgb_cond_vector_relu",
    "k3_rf_3x5_two_channels",
)
# The accelerator program is run (forced, on the CPU) on the 3-level ones.
ACCELERATOR = (
    "k3_rgb_cond_vector_relu",
    "k3_rf_3x5_two_channels",
    "k3_float64",
)
# The Jacobi program: one and three levels, gray and RGB, a window of one
# input (test_teacher_forcing.py's passes test adds a two-level model,
# test_completion.py an RGB conditional one, and test_cached_layers.py
# windows of two and three).
JACOBI = ("k1_rf_2x1", "k3_rgb_cond_vector_relu")
# The programs that draw pixel by pixel, whose draws `main` records.
SEQUENTIAL = ("graph", "xla_cpu", "xla_accelerator")
FORCING_BATCH = 3
FORCING_SEED = 7


def synthetic_images(rng, n, label, image_shape, high):
  """Peaked, correlated, label-dependent training images.

  Every pixel of an image shares one of two colours (label 0), or the
  colours alternate in a checkerboard (label 1); then a few pixels are
  replaced by noise so that every image keeps some mass.

  Grayscale uses interior values (1 and high-1) jittered by +-1: TFP's
  sampler clips its unrounded draw to [low, high], so mass at the edges,
  or logistics too narrow to stray from integers, would hide the
  difference between unrounded and quantized feedback that the test must
  detect. RGB needs no jitter: its coupling of channels through the
  unrounded earlier channels already differs a lot at high=1.
  """
  h, w, c = image_shape
  if c == 3:
    colour_a = np.array([high, 0, 0])  # red: channels coupled
    colour_b = np.array([0, high, high])  # cyan
  else:
    colour_a, colour_b = np.full(c, 1), np.full(c, high - 1)
  flip = rng.random(n) < 0.5
  first = np.where(flip[:, None], colour_b, colour_a)  # [n, c]
  second = np.where(flip[:, None], colour_a, colour_b)
  images = np.empty((n, h, w, c), np.int64)
  for i, j in itertools.product(range(h), range(w)):
    images[:, i, j] = second if (label == 1 and (i + j) % 2) else first
  if c == 1:
    jitter = rng.choice([-1, 0, 1], size=images.shape, p=[0.15, 0.7, 0.15])
    images = np.clip(images + jitter, 0, high)
  noise = rng.random((n, h, w, 1)) < 0.08
  images = np.where(noise, rng.integers(0, high + 1, images.shape), images)
  return images.astype(np.float32)


def exact_config(name):
  """The constructor arguments of an enumeration model."""
  return dict(
      conditional_shape=(), num_resnet=1, dropout_p=0.0, low=0, **EXACT[name]
  )


def forcing_config(name):
  """The constructor arguments of a teacher-forcing model."""
  return dict(
      dict(num_resnet=1, num_filters=6, num_logistic_mix=2, dropout_p=0.0),
      **FORCING[name],
  )


def programs_of(name):
  """The generator's programs that teacher forcing runs on `name`."""
  return (
      ("graph", "xla_cpu")
      + (("xla_accelerator",) if name in ACCELERATOR else ())
      + (("xla_jacobi",) if name in JACOBI else ())
  )


def forcing_model(name):
  """A teacher-forcing model: saved if recorded, else made from seed 0."""
  if name in RECORDED:
    return load("forcing_" + name)[0]
  import tf_keras

  from tfp_fastpixel import FastPixelCNN

  tf_keras.utils.set_random_seed(0)
  return FastPixelCNN(**forcing_config(name))


def forcing_input(dist):
  """The conditional input teacher forcing samples with (or None)."""
  import tensorflow as tf

  if dist.conditional_shape is None:
    return None
  shape = [FORCING_BATCH] + dist.conditional_shape.as_list()
  return tf.random.stateless_normal(shape, [1, 2], dtype=dist.dtype)


def train_exact(name, seed=1234):
  """An enumeration model fitted (a few seconds) to `synthetic_images`."""
  import tensorflow as tf
  import tf_keras

  from tfp_fastpixel import FastPixelCNN

  tf_keras.utils.set_random_seed(seed)
  config = exact_config(name)
  image_shape, high = config["image_shape"], config["high"]
  dist = FastPixelCNN(**config)
  rng = np.random.default_rng(seed)
  per_label = 2048
  images = np.concatenate(
      [
          synthetic_images(rng, per_label, lab, image_shape, high)
          for lab in EXACT_LABELS
      ]
  )
  labels = np.repeat(np.array(EXACT_LABELS, np.float32), per_label)
  # Weight norm's data-dependent init runs on fit's first (mixed-label)
  # batch. At level 1 (1x1) some channels see only the label; the init
  # guard must keep them from being blown up.
  x = tf_keras.layers.Input(shape=image_shape)
  c = tf_keras.layers.Input(shape=())
  lp = dist.log_prob(x, conditional_input=c)
  model = tf_keras.Model([x, c], lp)
  model.add_loss(-tf.reduce_mean(lp))
  model.compile(tf_keras.optimizers.Adam(1e-2))
  model.fit([images, labels], batch_size=128, epochs=8, shuffle=True, verbose=0)
  return dist


def save(name, config, dist, **arrays):
  """Writes `<name>.npz`: weights, config as JSON, and `arrays`."""
  import tensorflow as tf

  config = dict(config, dtype=tf.as_dtype(config.get("dtype", "float32")).name)
  weights = {f"w{i:03d}": w for i, w in enumerate(dist.network.get_weights())}
  np.savez_compressed(
      os.path.join(HERE, name + ".npz"),
      config=json.dumps(config),
      **weights,
      **arrays,
  )


def recorded(name):
  """The arrays saved in `<name>.npz` beside the model (e.g. its draws)."""
  with np.load(os.path.join(HERE, name + ".npz")) as f:
    return {k: f[k] for k in f.files if k != "config" and k[0] != "w"}


def load(name, **overrides):
  """`(FastPixelCNN, arrays)` from `<name>.npz`; `overrides` are extra
  constructor arguments (e.g. `jit_compile`)."""
  import tensorflow as tf

  from tfp_fastpixel import FastPixelCNN

  with np.load(os.path.join(HERE, name + ".npz")) as f:
    arrays = {k: f[k] for k in f.files}
  config = json.loads(str(arrays.pop("config")))
  for key in ("image_shape", "receptive_field_dims", "conditional_shape"):
    if key in config:
      config[key] = tuple(config[key])
  config["dtype"] = tf.as_dtype(config["dtype"])
  dist = FastPixelCNN(**config, **overrides)
  keys = sorted(k for k in arrays if k.startswith("w"))
  dist.network.set_weights([arrays.pop(k) for k in keys])
  return dist, arrays


def main():
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  import tf_keras

  from tfp_fastpixel import FastPixelCNN
  from tfp_fastpixel import _execution

  for name in EXACT:
    save(name, exact_config(name), train_exact(name))
    print("wrote", name)
  for name in RECORDED:
    tf_keras.utils.set_random_seed(0)
    config = forcing_config(name)
    dist = FastPixelCNN(**config)
    cond = forcing_input(dist)
    _execution.prepare(dist, FORCING_BATCH, cond)  # weight norm's init
    draws = {}
    for program in (p for p in programs_of(name) if p in SEQUENTIAL):
      samples, _ = _execution.sample_with_params(
          _execution.with_program(dist, program),
          FORCING_BATCH,
          seed=FORCING_SEED,
          conditional_input=cond,
      )
      draws[program] = samples.numpy()
    save("forcing_" + name, config, dist, **draws)
    print("wrote", name)
  return 0


if __name__ == "__main__":
  sys.exit(main())
