"""Whole-number floats wherever the Python API wants an int.

R (through reticulate) passes every number as a double: `seed = 42` arrives
as 42.0, `c(3, 7)` as [3.0, 7.0]. They must mean what the ints mean, and
fractions must be rejected with the argument's name.
"""

import numpy as np
import pytest
import tensorflow as tf

from tfp_fastpixel import FastPixelCNN
from tfp_fastpixel import data
from tfp_fastpixel import train as train_lib
from tfp_fastpixel.distribution import stateless_seed


@pytest.fixture(scope="module")
def dist():
  return FastPixelCNN(
      image_shape=(4, 4, 1),
      conditional_shape=(),
      num_resnet=1,
      num_hierarchies=1,
      num_filters=8,
      num_logistic_mix=2,
      dropout_p=0.0,
      high=3,
      jit_compile=False,
  )


@pytest.mark.parametrize(
    "as_float, as_int",
    [
        (42.0, 42),
        (np.float64(7.0), 7),
        (np.array(3.0), 3),
        (-5.0, -5),
        (2.0**40, 2**40),
        ([1.0, 2.0], [1, 2]),
        ((np.float32(3.0), 4), (3, 4)),
    ],
)
def test_stateless_seed_takes_whole_floats(as_float, as_int):
  np.testing.assert_array_equal(
      stateless_seed(as_float).numpy(), stateless_seed(as_int).numpy()
  )


def test_stateless_seed_keeps_its_int_and_tensor_meaning():
  # An int seed spreads over both words; a pair is used as it is.
  np.testing.assert_array_equal(stateless_seed(1).numpy(), [0, 1])
  np.testing.assert_array_equal(stateless_seed(2**31 + 3).numpy(), [1, 3])
  np.testing.assert_array_equal(stateless_seed([5, 6]).numpy(), [5, 6])
  pair = tf.constant([7, 8], tf.int32)
  np.testing.assert_array_equal(stateless_seed(pair).numpy(), [7, 8])
  assert stateless_seed(None).shape == (2,)


@pytest.mark.parametrize(
    "seed, match",
    [
        (1.5, "`seed` must be an integer"),
        (float("nan"), "`seed` must be an integer"),
        (True, "`seed` must be an integer; got the boolean"),
        ([1.0, 2.5], r"`seed\[1\]` must be an integer"),
    ],
)
def test_stateless_seed_rejects_fractions_by_name(seed, match):
  with pytest.raises(TypeError, match=match):
    stateless_seed(seed)


def test_sample_and_complete_take_whole_floats(dist):
  a = dist.sample(3.0, seed=1.0, conditional_input=2.0)
  b = dist.sample(3, seed=1, conditional_input=2.0)
  assert a.shape == (3, 4, 4, 1)
  np.testing.assert_array_equal(a.numpy(), b.numpy())
  c = dist.complete(a, num_observed=2 * 4.0, seed=5.0, conditional_input=2.0)
  d = dist.complete(a, num_observed=8, seed=5, conditional_input=2.0)
  np.testing.assert_array_equal(c.numpy(), d.numpy())
  np.testing.assert_array_equal(
      c.numpy().reshape(3, 16)[:, :8], a.numpy().reshape(3, 16)[:, :8]
  )


def test_sample_and_complete_reject_fractions_by_name(dist):
  with pytest.raises(TypeError, match="seed"):
    dist.sample(2, seed=1.5, conditional_input=1.0)
  with pytest.raises(TypeError, match="sample_shape"):
    dist.sample(2.5, conditional_input=1.0)
  x = tf.zeros([2, 4, 4, 1])
  with pytest.raises(TypeError, match="num_observed"):
    dist.complete(x, num_observed=2.5, conditional_input=1.0)
  with pytest.raises(TypeError, match="seed"):
    dist.complete(x, num_observed=2, seed=0.5, conditional_input=1.0)


def test_data_takes_whole_floats():
  assert data.resolve_classes([3.0, 7.0], [str(i) for i in range(10)]) == (
      3,
      7,
  )
  assert data.resolve_classes(np.float64(4.0), [str(i) for i in range(10)]) == (
      4,
  )
  ((image, label),) = next(
      iter(data.load("digits", batch_size=8.0, take=16.0, seed=1.0))
  )
  assert image.shape == (8, 8, 8, 1) and label.shape == (8,)


def test_data_rejects_fractions_by_name():
  with pytest.raises(ValueError, match="classes"):
    data.resolve_classes([3.5], [str(i) for i in range(10)])
  with pytest.raises(TypeError, match="batch_size"):
    data.load("digits", batch_size=8.5)
  with pytest.raises(TypeError, match="take"):
    data.load("digits", take=10.5)
  with pytest.raises(TypeError, match="seed"):
    data.load("digits", seed=0.5)


def test_train_rejects_fractions_by_name(tmp_path):
  with pytest.raises(TypeError, match="epochs"):
    train_lib.train(str(tmp_path / "a"), epochs=1.5)
  with pytest.raises(TypeError, match="batch_size"):
    train_lib.train(str(tmp_path / "b"), epochs=1, batch_size=8.5)
  with pytest.raises(TypeError, match="seed"):
    train_lib.train(str(tmp_path / "c"), epochs=1, seed=0.5)
