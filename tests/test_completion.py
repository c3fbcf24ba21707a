"""`complete` and `experimental_sample_and_log_prob` on tiny models: shapes,
the observed prefix, agreement with plain sampling and with one network pass,
and clear errors. Their exactness under the enumeration chi-square is in
test_exactness.py."""

import numpy as np
import pytest
import tensorflow as tf

from tfp_fastpixel import FastPixelCNN
from tfp_fastpixel import _execution
from tfp_fastpixel import mixture


@pytest.fixture(
    scope="module",
    params=[
        "graph",
        pytest.param("xla_cpu", marks=pytest.mark.slow),
        pytest.param("xla_jacobi", marks=pytest.mark.slow),
    ],
)
def rgb_cond(request):
  """A 4x4 RGB model with two levels and a vector condition, on a program."""
  tf.keras.utils.set_random_seed(3)
  dist = FastPixelCNN(
      image_shape=(4, 4, 3),
      conditional_shape=(2,),
      num_resnet=1,
      num_hierarchies=2,
      num_filters=6,
      num_logistic_mix=2,
      high=3,
      dropout_p=0.0,
  )
  return _execution.with_program(dist, request.param)


def _cond(batch):
  return tf.random.stateless_normal([batch, 2], [5, 6])


def test_completion_keeps_prefix_and_shapes(rgb_cond):
  images = rgb_cond.sample(3, seed=1, conditional_input=_cond(3))
  for k in (1, 6, 15):
    out = rgb_cond.complete(
        images, k, sample_shape=(2, 5), seed=2, conditional_input=_cond(3)
    ).numpy()
    assert out.shape == (2, 5, 3, 4, 4, 3)
    flat = out.reshape(10, 3, 16, 3)
    kept = np.broadcast_to(
        images.numpy().reshape(3, 16, 3)[:, :k], (10, 3, k, 3)
    )
    np.testing.assert_array_equal(flat[:, :, :k], kept)
    # The rest is drawn: 10 completions per image do not all agree.
    assert np.any(flat[:, :, k:] != flat[:1, :, k:])
    assert out.min() >= 0 and out.max() <= 3 and np.all(out == np.round(out))


def test_completion_edge_cases_are_sampling_and_identity(rgb_cond):
  cond = _cond(4)
  images = rgb_cond.sample(4, seed=7, conditional_input=cond)
  # Nothing observed: exactly `sample` with the same seed (same noise).
  np.testing.assert_array_equal(
      rgb_cond.complete(
          tf.zeros_like(images), 0, seed=11, conditional_input=cond
      ),
      rgb_cond.sample(4, seed=11, conditional_input=cond),
  )
  # Everything observed: the input.
  np.testing.assert_array_equal(
      rgb_cond.complete(images, 16, seed=3, conditional_input=cond), images
  )
  # A tensor num_observed works and does not retrace per value.
  traces = _execution.trace_count(rgb_cond)
  for k in (2, 9):
    out = rgb_cond.complete(
        images, tf.constant(k), seed=3, conditional_input=cond
    )
    np.testing.assert_array_equal(
        out.numpy().reshape(4, 16, 3)[:, :k],
        images.numpy().reshape(4, 16, 3)[:, :k],
    )
  assert _execution.trace_count(rgb_cond) <= traces + 1


def test_completion_params_match_one_network_pass(rgb_cond):
  """Teacher forcing for completion: the generator fed the observed pixels."""
  cond = _cond(3)
  images = rgb_cond.sample(3, seed=5, conditional_input=cond)
  _execution.prepare(rgb_cond, 3, cond)
  done, raw = _execution.run_generator(
      rgb_cond,
      tf.constant(3),
      8,
      tf.reshape(cond, [3, 2]),
      observed=(images, tf.constant(7)),
      return_params=True,
  )
  np.testing.assert_array_equal(
      done.numpy().reshape(3, 16, 3)[:, :7],
      images.numpy().reshape(3, 16, 3)[:, :7],
  )
  params = mixture.split_params(raw, 3, 2)
  x = mixture.to_network_scale(done, 0.0, 3.0)
  reference = rgb_cond.network([x, cond], training=False)
  worst = max(
      float(tf.reduce_max(tf.abs(p - r))) for p, r in zip(params, reference)
  )
  assert worst <= 1e-4, worst


def test_sample_and_log_prob_equals_log_prob(rgb_cond):
  cond = _cond(3)
  x, lp = rgb_cond.experimental_sample_and_log_prob(
      (2, 3), seed=4, conditional_input=cond
  )
  assert x.shape == (2, 3, 4, 4, 3) and lp.shape == (2, 3)
  np.testing.assert_array_equal(
      x, rgb_cond.sample((2, 3), seed=4, conditional_input=cond)
  )
  np.testing.assert_allclose(
      lp, rgb_cond.log_prob(x, conditional_input=cond), atol=1e-4, rtol=0
  )


@pytest.mark.slow
def test_sample_and_log_prob_unconditional_gray():
  dist = FastPixelCNN(
      image_shape=(4, 6, 1),
      num_resnet=1,
      num_hierarchies=2,
      num_filters=4,
      num_logistic_mix=3,
      high=7,
  )
  x, lp = dist.experimental_sample_and_log_prob(5, seed=1)
  assert x.shape == (5, 4, 6, 1) and lp.shape == (5,)
  np.testing.assert_allclose(lp, dist.log_prob(x), atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    "images, num_observed, cond, error, pattern",
    [
        (np.zeros([2, 4, 4, 1]), 3, 2, ValueError, "`images` must have shape"),
        (np.zeros([4, 4, 3]), 3, 2, ValueError, "`images` must have shape"),
        (np.full([2, 4, 4, 3], 4.0), 3, 2, ValueError, r"\[low, high\]"),
        (np.full([2, 4, 4, 3], -1.0), 3, 2, ValueError, r"\[low, high\]"),
        (np.full([2, 4, 4, 3], 1.5), 3, 2, ValueError, "integer pixel"),
        (
            np.zeros([2, 4, 4, 3]),
            17,
            2,
            ValueError,
            r"`num_observed`.*\[0, 16\]",
        ),
        (np.zeros([2, 4, 4, 3]), -1, 2, ValueError, "`num_observed`"),
        (np.zeros([2, 4, 4, 3]), 2.5, 2, TypeError, "`num_observed`"),
        (np.zeros([2, 4, 4, 3]), 3, 3, ValueError, "`conditional_input`"),
        (np.zeros([2, 4, 4, 3]), 3, None, ValueError, "`conditional_input`"),
    ],
)
def test_completion_rejects_bad_input(
    rgb_cond, images, num_observed, cond, error, pattern
):
  cond = None if cond is None else _cond(cond)
  with pytest.raises(error, match=pattern):
    rgb_cond.complete(images, num_observed, conditional_input=cond)
