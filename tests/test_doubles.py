"""Whole-number floats wherever the data and training API want an int.

R (through reticulate) passes every number as a double: `epochs = 3` arrives
as 3.0, `classes = c(3, 7)` as [3.0, 7.0]. They must mean what the ints mean,
and fractions must be rejected with the argument's name. (The model's
arguments, `sample` and seeds: tests/test_distribution.py.)
"""

import numpy as np
import pytest

from tfp_fastpixel import data
from tfp_fastpixel import train as train_lib

DIGITS = [str(i) for i in range(10)]


def test_data_takes_whole_floats():
  assert data.resolve_classes([3.0, 7.0], DIGITS) == (3, 7)
  assert data.resolve_classes(np.float64(4.0), DIGITS) == (4,)
  ((image, label),) = next(
      iter(data.load("digits", batch_size=8.0, take=16.0, seed=1.0))
  )
  assert image.shape == (8, 8, 8, 1) and label.shape == (8,)


def test_data_rejects_fractions_by_name():
  with pytest.raises(ValueError, match="classes"):
    data.resolve_classes([3.5], DIGITS)
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
