"""The cached generator computes exactly what one full network pass computes.

Teacher forcing: the mixture parameters the generator used at every pixel
must equal those of `dist.network` run once on the finished samples. Any
cache that holds a stale or misaligned value shows up here.
"""

import numpy as np
import pytest
import tensorflow as tf

from tfp_fastpixel import FastPixelCNN
from tfp_fastpixel import from_pixelcnn
from tfp_fastpixel import mixture
from tfp_fastpixel import op_counts

# Small networks, but every structural option: levels 1-3, receptive fields,
# activations, weight norm on/off, conditioning, channels, ranges, dtypes.
CONFIGS = {
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
        dtype=tf.float64,
        conditional_shape=(3,),
    ),
}
BATCH = 3


def _conditional_input(dist):
  if dist.conditional_shape is None:
    return None
  shape = [BATCH] + dist.conditional_shape.as_list()
  return tf.random.stateless_normal(shape, [1, 2], dtype=dist.dtype)


# The quick loop (-m "not slow") runs two small configurations, graph mode.
QUICK = ("k1_gray", "k2_cond_scalar_elu")


@pytest.mark.parametrize(
    "jit_compile",
    [False, pytest.param(True, marks=pytest.mark.slow)],
    ids=["graph", "xla"],
)
@pytest.mark.parametrize(
    "name",
    [
        n if n in QUICK else pytest.param(n, marks=pytest.mark.slow)
        for n in sorted(CONFIGS)
    ],
)
def test_generator_params_match_one_network_pass(name, jit_compile):
  tf.keras.utils.set_random_seed(0)  # the same weights on every run
  config = dict(
      dict(num_resnet=1, num_filters=6, num_logistic_mix=2, dropout_p=0.0),
      **CONFIGS[name],
  )
  dist = FastPixelCNN(jit_compile=jit_compile, **config)
  assert dist.uses_xla() == jit_compile
  cond = _conditional_input(dist)

  samples, params = dist.sample_with_params(
      BATCH, seed=7, conditional_input=cond
  )

  x = mixture.to_network_scale(samples, dist._low, dist._high)
  reference = dist.network(x if cond is None else [x, cond], training=False)
  assert len(params) == len(reference)
  worst = max(
      float(tf.reduce_max(tf.abs(p - r))) for p, r in zip(params, reference)
  )
  print(
      f'{name} ({"XLA" if jit_compile else "graph"}): '
      f"max |generator - network| = {worst:.2e}"
  )
  # float64 agrees to float32 precision only: TFP's WeightNorm wrapper is
  # built without a dtype, so it rounds each layer's input to float32.
  assert worst <= 1e-4, f"{name}: teacher forcing error {worst}"
  # Samples are integers in range (the parameters above depend on them).
  values = samples.numpy()
  assert np.all(values == np.round(values))
  assert values.min() >= config.get("low", 0)
  assert values.max() <= config.get("high", 255)


def _core_work_per_pixel(dist, cond):
  """Working instructions per pixel in the compiled core's CPU program."""
  core, args = dist.core_program(BATCH, [1, 2], cond)
  hlo = core.experimental_get_compiler_ir(*args)(stage="optimized_hlo")
  h, w, _ = dist.image_shape.as_list()
  return op_counts.xla_ops_per_pixel(hlo, h, w)[1]


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["k3_rgb_cond_vector_relu", "k3_rf_3x5_two_channels", "k3_float64"]
)
def test_packed_caches_match_one_network_pass_and_the_unpacked_draws(name):
  # The layout a GPU gets (`_pack_caches`, automatic off the CPU), forced
  # here on the CPU: each level's pixel caches as one tensor.
  config = dict(
      dict(num_resnet=1, num_filters=6, num_logistic_mix=2, dropout_p=0.0),
      **CONFIGS[name],
  )
  tf.keras.utils.set_random_seed(0)
  dists = {False: FastPixelCNN(jit_compile=True, **config)}
  dists[False]._pack_caches = False
  cond = _conditional_input(dists[False])
  draws = {
      False: dists[False].sample_with_params(
          BATCH, seed=7, conditional_input=cond
      )
  }
  # The same weights, weight norm's init included (done by the first call).
  dists[True] = from_pixelcnn(dists[False], jit_compile=True)
  dists[True]._pack_caches = True
  draws[True] = dists[True].sample_with_params(
      BATCH, seed=7, conditional_input=cond
  )
  samples, params = draws[True]
  # Pure data movement: the very same images.
  np.testing.assert_array_equal(samples.numpy(), draws[False][0].numpy())
  x = mixture.to_network_scale(samples, dists[True]._low, dists[True]._high)
  reference = dists[True].network(
      x if cond is None else [x, cond], training=False
  )
  worst = max(
      float(tf.reduce_max(tf.abs(p - r))) for p, r in zip(params, reference)
  )
  assert worst <= 1e-4, f"{name}: teacher forcing error {worst}"
  # And the layout is really the packed one: fewer instructions per pixel
  # (the copies of loop and conditional state).
  packed = _core_work_per_pixel(dists[True], cond)
  unpacked = _core_work_per_pixel(dists[False], cond)
  print(
      f"{name}: working instructions per pixel {unpacked:.1f} -> {packed:.1f}"
  )
  assert packed < unpacked
