"""Keras training: loss goes down, checkpoints rebuild the model, resume keeps
epochs and optimizer state, NaN stops cleanly. MirroredStrategy on two
logical CPUs is in test_shards.py, which shares that process."""

import csv
import json
import os

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from tfp_fastpixel import data
from tfp_fastpixel import train as train_lib

DIGITS = {"name": "digits", "take": 128}  # 4 steps of 32 per epoch.
STEPS = 4


def _history_epochs(run_dir):
  with open(os.path.join(run_dir, train_lib.HISTORY_FILE)) as f:
    return [int(row["epoch"]) for row in csv.DictReader(f)]


@pytest.mark.slow
def test_training_lowers_loss_and_run_dir_rebuilds_model(tmp_path, tiny_model):
  run = str(tmp_path / "run")
  result = train_lib.train(run, DIGITS, tiny_model, epochs=3, verbose=0)
  loss = result.history["loss"]
  assert loss[-1] < loss[0]
  val = result.history["val_bits_per_dim"]
  assert val[-1] < val[0] and np.isfinite(val).all()
  # bits/dim is the loss on the PixelCNN++ scale: nats / (H*W*C*ln 2).
  np.testing.assert_allclose(
      result.history["bits_per_dim"],
      np.array(loss) / (64 * np.log(2)),
      rtol=1e-4,
  )
  assert result.epoch == 3 and _history_epochs(run) == [0, 1, 2]

  with open(os.path.join(run, train_lib.CONFIG_FILE)) as f:
    config = json.load(f)
  assert config["model"]["image_shape"] == [8, 8, 1]
  assert config["model"]["conditional_shape"] == []
  assert config["model"]["high"] == 16 and config["model"]["num_filters"] == 8

  dist, _ = train_lib.load_distribution(run)  # From the directory alone.
  test = data.load("digits", "test", batch_size=64, take=128)
  want = train_lib.evaluate_bits_per_dim(result.dist, test)
  assert train_lib.evaluate_bits_per_dim(dist, test) == pytest.approx(want)
  assert 0 < want < 4  # Uniform over 17 levels is log2(17) = 4.09.


class _Interrupt(tf_keras.callbacks.Callback):
  """Raises KeyboardInterrupt mid-way through epoch `epoch` (0-based)."""

  def __init__(self, epoch):
    super().__init__()
    self.epoch = epoch

  def on_train_batch_end(self, batch, logs=None):
    if self._epoch == self.epoch and batch == 1:
      raise KeyboardInterrupt

  def on_epoch_begin(self, epoch, logs=None):
    self._epoch = epoch


class _RecordStart(tf_keras.callbacks.Callback):

  def on_train_begin(self, logs=None):
    self.iterations = int(self.model.optimizer.iterations)
    self.slots = [
        v.numpy().copy()
        for v in self.model.optimizer.variables
        if "m/" in v.name or "velocity" in v.name
    ]


@pytest.mark.slow
def test_resume_continues_from_checkpointed_epoch(tmp_path, tiny_model):
  run = str(tmp_path / "run")
  with pytest.raises(KeyboardInterrupt):  # Dies half-way through epoch 2.
    train_lib.train(
        run,
        DIGITS,
        tiny_model,
        epochs=3,
        verbose=0,
        callbacks=[_Interrupt(epoch=1)],
    )
  assert os.path.basename(train_lib.latest_checkpoint(run)) == "ckpt-1"

  start = _RecordStart()
  result = train_lib.train(
      run, DIGITS, tiny_model, epochs=3, verbose=0, callbacks=[start]
  )
  assert start.iterations == STEPS  # Adam's step count came back...
  assert start.slots and any(
      np.abs(s).sum() > 0 for s in start.slots
  )  # ...and its moments.
  assert len(result.history["loss"]) == 2  # Epochs 2 and 3 only.
  assert (
      result.epoch == 3 and int(result.model.optimizer.iterations) == 3 * STEPS
  )
  assert _history_epochs(run) == [0, 1, 2]  # No lost or repeated epoch.

  again = train_lib.train(run, epochs=3, verbose=0)  # Done: trains nothing.
  assert again.history == {} and again.epoch == 3

  with pytest.raises(ValueError, match="different model config"):
    train_lib.train(
        run, DIGITS, dict(tiny_model, num_filters=16), epochs=4, verbose=0
    )


class _PoisonWeights(tf_keras.callbacks.Callback):
  """Sets a weight to NaN at the start of epoch `epoch`."""

  def __init__(self, epoch):
    super().__init__()
    self.epoch = epoch

  def on_epoch_begin(self, epoch, logs=None):
    if epoch == self.epoch:
      var = self.model.trainable_variables[0]
      var.assign(tf.fill(var.shape, np.nan))


@pytest.mark.slow
def test_nan_stops_training_and_keeps_last_good_checkpoint(
    tmp_path, tiny_model
):
  run = str(tmp_path / "run")
  result = train_lib.train(
      run,
      DIGITS,
      tiny_model,
      epochs=4,
      verbose=0,
      callbacks=[_PoisonWeights(epoch=1)],
  )
  assert result.stopped_on_nan and result.epoch == 1
  assert os.path.basename(train_lib.latest_checkpoint(run)) == "ckpt-1"
  assert all(np.isfinite(v.numpy()).all() for v in result.dist.variables)
  test = data.load("digits", "test", batch_size=64, take=128)
  assert np.isfinite(train_lib.evaluate_bits_per_dim(result.dist, test))
  # Resuming after the NaN starts from the good epoch again.
  resumed = train_lib.train(run, epochs=2, verbose=0)
  assert not resumed.stopped_on_nan and resumed.epoch == 2


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(num_filters=0), ValueError, "num_filters"),
        (dict(dropout_p=1.0), ValueError, "dropout_p"),
        (dict(image_shape=(8, 8)), ValueError, "image_shape"),
        (dict(filters=8), TypeError, "Unknown FastPixelCNN argument"),
    ],
)
def test_model_config_checks_arguments(kwargs, error, match):
  with pytest.raises(error, match=match):
    train_lib.model_config(**dict(dict(image_shape=(8, 8, 1)), **kwargs))


def test_train_checks_arguments(tmp_path, tiny_model):
  with pytest.raises(ValueError, match="epochs"):
    train_lib.train(str(tmp_path), DIGITS, tiny_model, epochs=0)
  with pytest.raises(ValueError, match="image_shape"):
    train_lib.train(
        str(tmp_path / "a"),
        DIGITS,
        dict(tiny_model, image_shape=(28, 28, 1)),
        epochs=1,
    )
  with pytest.raises(ValueError, match="run_dir"):
    train_lib.load_distribution(str(tmp_path / "missing"))
