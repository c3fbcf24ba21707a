"""Keras training of a `FastPixelCNN` on `log_prob`, with resumable run dirs.

The model is the one TFP's `tfd.PixelCNN` docstring builds: inputs `image`
(and `label`), output `dist.log_prob(image, conditional_input=label)`, loss
`add_loss(-mean(log_prob))`, Adam, `model.fit` on a `tfp_fastpixel.data`
pipeline.

A run directory is self-describing:

  RUN_DIR/config.json      {"model": FastPixelCNN constructor args,
                            "data": tfp_fastpixel.data.load args,
                            "train": batch size, learning rate, seed}
  RUN_DIR/checkpoints/     tf.train.Checkpoint after every epoch: network
                            weights, optimizer state, completed-epoch count
  RUN_DIR/history.csv      one row per epoch: loss, bits/dim, val_bits/dim

so `load_distribution(RUN_DIR)` rebuilds the trained distribution from the
directory alone, and `train(RUN_DIR, ...)` resumes after an interruption from
the last completed epoch with the optimizer state kept.

Example:

  from tfp_fastpixel import data, train

  result = train.train(
      "runs/digits",
      data_config={"name": "digits", "labels": "scalar"},
      model_kwargs={"num_filters": 32, "num_resnet": 1},
      epochs=5,
  )
  test = data.load("digits", "test", batch_size=256, shuffle=False)
  print(train.evaluate_bits_per_dim(result.dist, test))
  images = result.dist.sample(8, conditional_input=[3.0] * 8)  # [8, 8, 8, 1]

  dist, config = train.load_distribution("runs/digits")  # later, elsewhere
"""

import dataclasses
import json
import math
import os
import shutil
import time
from typing import Optional, Sequence

import numpy as np
import tensorflow as tf
import tf_keras

from tfp_fastpixel import arguments
from tfp_fastpixel import data as data_lib
from tfp_fastpixel import run_dir as run_dir_lib
from tfp_fastpixel import validation
from tfp_fastpixel.distribution import FastPixelCNN

CONFIG_FILE = run_dir_lib.CONFIG_FILE
CHECKPOINT_DIR = run_dir_lib.CHECKPOINT_DIR
HISTORY_FILE = run_dir_lib.HISTORY_FILE


@dataclasses.dataclass
class TrainResult:
  """What `train` returns.

  Attributes:
    dist: the trained `FastPixelCNN` (last good weights).
    model: the compiled `tf_keras.Model` around `dist.log_prob`.
    history: per-epoch logs of this call, e.g. `{"bits_per_dim": [...]}`.
    epoch: epochs completed in the run dir (including earlier calls).
    stopped_on_nan: training hit a NaN/Inf loss; the last good checkpoint
      was restored.
  """

  dist: FastPixelCNN
  model: tf_keras.Model
  history: dict
  epoch: int
  stopped_on_nan: bool = False


# ---------------------------------------------------------------------------
# Model configuration.


def model_config(**kwargs) -> dict:
  """FastPixelCNN constructor arguments as a JSON-ready dict.

  Checked by the constructor's own validator (`validation.model_arguments`):
  unknown names raise `TypeError`, bad values `ValueError` or `TypeError`.
  Missing or None arguments take the signature's defaults (None keeps
  `conditional_shape` None). Shapes become lists and `dtype` a string;
  `jit_compile` is not stored (it is not part of a trained model).

  Args:
    **kwargs: `FastPixelCNN` constructor arguments; `image_shape` `(H, W,
      C)` is required. Integral floats (R's doubles) are accepted.

  Returns:
    A dict of every constructor argument but `jit_compile`, e.g.
    `{"image_shape": [8, 8, 1], "num_filters": 4, ...}`.

  Example:

    cfg = model_config(image_shape=(8, 8, 1), num_filters=4.0)
    cfg["num_filters"]  # 4
    dist = make_distribution(cfg)
  """
  kwargs = {
      k: v
      for k, v in kwargs.items()
      if v is not None or k == "conditional_shape"
  }
  cfg = validation.model_arguments(**kwargs)
  for key in arguments.SAMPLING_ONLY:
    cfg.pop(key)
  for key in ("image_shape", "conditional_shape", "receptive_field_dims"):
    if cfg[key] is not None:
      cfg[key] = list(cfg[key])
  cfg["dtype"] = cfg["dtype"].name
  return cfg


def make_distribution(config: dict) -> FastPixelCNN:
  """`FastPixelCNN(**config)` from a run's (JSON) model config.

  Args:
    config: a dict from `model_config`, e.g. `read_config(run)["model"]`.

  Returns:
    A new `FastPixelCNN` (fresh weights; `load_distribution` restores a
    run's).
  """
  return FastPixelCNN(**config)


def bits_per_dim(nats_per_image, image_shape) -> float:
  """Negative log-likelihood per image (nats) -> bits per sub-pixel, the
  PixelCNN++ scale (2.92 on CIFAR-10).

  Args:
    nats_per_image: a scalar, `-log p(image)` in nats.
    image_shape: `(H, W, C)`; the image has `H * W * C` sub-pixels.

  Returns:
    A float: `nats_per_image / (H * W * C * ln 2)`.

  Example:

    bits_per_dim(-float(dist.log_prob(image)), (8, 8, 1))
  """
  return float(nats_per_image) / (int(np.prod(image_shape)) * math.log(2.0))


def build_model(
    dist: FastPixelCNN, learning_rate: float = 1e-3
) -> tf_keras.Model:
  """The TFP-docstring Keras model around `dist.log_prob`, compiled with Adam.

  Inputs: image `[B, H, W, C]` (and label `[B, *conditional_shape]`);
  output: log_prob `[B]`. Loss: `-mean(log_prob)`, also logged as
  `bits_per_dim`. Call inside `strategy.scope()` for distributed training.

  Args:
    dist: the `FastPixelCNN` to train (its network holds the weights).
    learning_rate: Adam's learning rate, > 0.

  Returns:
    A compiled `tf_keras.Model`; `model.fit(data.load(...))` trains `dist`.

  Example:

    dist = FastPixelCNN(image_shape=(8, 8, 1), high=16, num_filters=32)
    model = build_model(dist)
    model.fit(data.load("digits", labels=None), epochs=1)
  """
  if not learning_rate > 0:
    raise ValueError(f"learning_rate: expected > 0, got {learning_rate!r}")
  image_shape = tuple(dist.image_shape.as_list())
  image_input = tf_keras.layers.Input(shape=image_shape)
  if dist.conditional_shape is None:
    inputs = image_input
    log_prob = dist.log_prob(image_input)
  else:
    label_input = tf_keras.layers.Input(shape=tuple(dist.conditional_shape))
    inputs = [image_input, label_input]
    log_prob = dist.log_prob(image_input, conditional_input=label_input)
  model = tf_keras.Model(inputs=inputs, outputs=log_prob)
  nll = -tf.reduce_mean(log_prob)
  model.add_loss(nll)
  model.add_metric(
      nll / (float(np.prod(image_shape)) * math.log(2.0)),
      name="bits_per_dim",
      aggregation="mean",
  )
  model.compile(optimizer=tf_keras.optimizers.Adam(learning_rate))
  # Create Adam's slots now, so a checkpoint restores them immediately.
  model.optimizer.build(model.trainable_variables)
  return model


def evaluate_bits_per_dim(
    dist: FastPixelCNN, dataset: tf.data.Dataset
) -> float:
  """Exact example-weighted bits/dim of `dist` (dropout off) on a `load()`
  dataset of `((image, label),)` or `(image,)` batches.

  Args:
    dist: a `FastPixelCNN`; conditional iff the dataset has labels.
    dataset: batches from `tfp_fastpixel.data.load`: images `[B, H, W, C]`
      (and labels `[B]` or `[B, K]`).

  Returns:
    A float: the mean over all examples of `bits_per_dim(-log_prob)`.

  Example:

    test = data.load("digits", "test", batch_size=256, shuffle=False)
    evaluate_bits_per_dim(result.dist, test)
  """
  conditional = dist.conditional_shape is not None

  @tf.function
  def batch_nll(element):
    if conditional:
      image, label = element
      log_prob = dist.log_prob(image, conditional_input=label, training=False)
    else:
      log_prob = dist.log_prob(element, training=False)
    return -tf.reduce_sum(log_prob), tf.shape(log_prob)[0]

  total, count = 0.0, 0
  for (element,) in dataset:
    nll, n = batch_nll(element)
    total += float(nll)
    count += int(n)
  if count == 0:
    raise ValueError("dataset: no examples to evaluate")
  return bits_per_dim(total / count, dist.image_shape.as_list())


# ---------------------------------------------------------------------------
# Run directories.


def read_config(run_dir: str) -> dict:
  """The `config.json` of a run dir.

  Args:
    run_dir: a directory written by `train`.

  Returns:
    A dict `{"model": ..., "data": ..., "train": ...}` (see the module
    docstring); raises `ValueError` when `run_dir` holds no run.
  """
  path = os.path.join(run_dir, CONFIG_FILE)
  if not os.path.exists(path):
    raise ValueError(
        f"run_dir: {run_dir!r} holds no {CONFIG_FILE}; is it a "
        f"tfp_fastpixel run directory?"
    )
  with open(path) as f:
    return json.load(f)


def _write_json(path, obj):
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(obj, f, indent=2, sort_keys=True)
  os.replace(tmp, path)  # Atomic: an interruption never leaves half a file.


def _checkpoint(dist, optimizer=None, epoch=None):
  parts = dict(network=dist.network)
  if optimizer is not None:
    parts.update(optimizer=optimizer, epoch=epoch)
  return tf.train.Checkpoint(**parts)


def latest_checkpoint(run_dir: str) -> Optional[str]:
  """The newest checkpoint prefix of a run (e.g. `.../checkpoints/ckpt-5`),
  or None before its first epoch ends."""
  return tf.train.latest_checkpoint(os.path.join(run_dir, CHECKPOINT_DIR))


def load_distribution(run_dir: str, checkpoint: Optional[str] = None):
  """Rebuilds the trained `FastPixelCNN` from a run dir alone.

  Args:
    run_dir: a directory written by `train`.
    checkpoint: a checkpoint prefix; default the latest one.

  Returns:
    `(dist, config)`: the distribution with restored weights and the run's
    `config.json` contents.

  Example:

    dist, config = load_distribution("runs/digits")
    images = dist.sample(4, conditional_input=[0.0, 1.0, 2.0, 3.0], seed=1)
  """
  config = read_config(run_dir)
  checkpoint = checkpoint or latest_checkpoint(run_dir)
  if checkpoint is None:
    raise ValueError(f"run_dir: {run_dir!r} has no checkpoint yet")
  dist = make_distribution(config["model"])
  # The optimizer and epoch counter are in the file too; skip them.
  _checkpoint(dist).restore(checkpoint).expect_partial()
  return dist, config


class RunCheckpoint(tf_keras.callbacks.Callback):
  """Saves a checkpoint after every finite epoch; stops on NaN/Inf.

  A non-finite training loss (checked every batch) or epoch metric stops
  training and skips that epoch's checkpoint, so the newest checkpoint is
  always the last good one. `train` adds it itself.

  Args:
    manager: the `tf.train.CheckpointManager` of the run's checkpoint.
    epoch: an int64 `tf.Variable` in that checkpoint; set to the number of
      completed epochs before each save.
    verbose: print a line when training stops on NaN/Inf.
  """

  def __init__(
      self,
      manager: tf.train.CheckpointManager,
      epoch: tf.Variable,
      verbose: int = 1,
  ):
    super().__init__()
    self.manager, self.epoch, self.verbose = manager, epoch, verbose
    self.stopped_on_nan = False

  def _stop(self, where):
    self.stopped_on_nan = True
    self.model.stop_training = True
    if self.verbose:
      print(
          f"\nNon-finite loss {where}: stopping; keeping checkpoint "
          f"{self.manager.latest_checkpoint}"
      )

  def on_train_batch_end(self, batch, logs=None):
    loss = (logs or {}).get("loss")
    if loss is not None and not np.isfinite(loss) and not self.stopped_on_nan:
      self._stop(f"at batch {batch}")

  def on_epoch_end(self, epoch, logs=None):
    bad = [
        k
        for k, v in (logs or {}).items()
        if isinstance(v, (float, np.floating)) and not np.isfinite(v)
    ]
    if bad and not self.stopped_on_nan:
      self._stop(f"in {bad} after epoch {epoch + 1}")
    if self.stopped_on_nan:
      return
    self.epoch.assign(epoch + 1)
    self.manager.save(checkpoint_number=epoch + 1)


class TimeBudget(tf_keras.callbacks.Callback):
  """Stops at the end of the first epoch that ends past `seconds`.

  Args:
    seconds: the budget, counted from the callback's construction.

  Example:

    model.fit(ds, epochs=100, callbacks=[TimeBudget(180.0)])
  """

  def __init__(self, seconds: float):
    super().__init__()
    self.seconds = seconds
    self.start = time.time()

  def on_epoch_end(self, epoch, logs=None):
    if time.time() - self.start > self.seconds:
      self.model.stop_training = True


def train(
    run_dir: str,
    data_config: Optional[dict] = None,
    model_kwargs: Optional[dict] = None,
    epochs: int = 10,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    strategy: Optional[tf.distribute.Strategy] = None,
    verbose: int = 1,
    callbacks: Sequence[tf_keras.callbacks.Callback] = (),
    time_budget: Optional[float] = None,
    seed: int = 0,
) -> TrainResult:
  """Trains (or resumes training) a FastPixelCNN in `run_dir`.

  Args:
    run_dir: directory for config, checkpoints and history; created if
      needed. If it already holds a run, training resumes from its last
      checkpoint with its stored configuration.
    data_config: keyword arguments of `tfp_fastpixel.data.load` other than
      `split`, `batch_size` and `shuffle`, e.g.
      `{"name": "digits", "labels": "onehot"}`. `None`: the stored one, or
      digits with scalar labels.
    model_kwargs: FastPixelCNN constructor arguments; `image_shape`,
      `conditional_shape`, `high` and `low` default to the data's.
    epochs: total number of epochs for the run (not "more epochs").
    batch_size: global batch size (split across replicas by `strategy`).
    learning_rate: Adam learning rate.
    strategy: any `tf.distribute.Strategy`, e.g. `MirroredStrategy()` (one
      machine) or `MultiWorkerMirroredStrategy()` (several, configured by
      `TF_CONFIG`); default: none. Under a multi-worker strategy only the
      chief writes `run_dir`, which must be storage every worker reaches;
      a restarted job resumes from the last completed epoch.
    verbose: Keras verbosity (1: progress bar).
    callbacks: extra Keras callbacks.
    time_budget: seconds; stop after the epoch that exceeds it.
    seed: seeds TF's and the pipeline's randomness for a fresh run.

  Returns:
    A `TrainResult`.

  Example:

    result = train(
        "runs/cifar10",
        data_config={"name": "cifar10", "labels": None, "take": 5000},
        model_kwargs={"num_filters": 32, "num_hierarchies": 3},
        epochs=2,
        strategy=tf.distribute.MirroredStrategy(),
    )
    result.dist.sample(16)  # [16, 32, 32, 3]
  """
  epochs = validation.as_int("epochs", epochs, minimum=1)
  if not isinstance(run_dir, (str, os.PathLike)):
    raise TypeError(f"run_dir: expected a path, got {type(run_dir).__name__}")
  run_dir = os.fspath(run_dir)
  strategy = strategy or tf.distribute.get_strategy()
  # Only the chief writes the run dir; other workers of a multi-worker job
  # write the same files to a directory of their own, removed at the end.
  write_dir = run_dir if is_chief(strategy) else _worker_dir(run_dir, strategy)
  os.makedirs(write_dir, exist_ok=True)
  config = _run_config(
      run_dir, data_config, model_kwargs, batch_size, learning_rate, seed
  )
  _write_json(os.path.join(write_dir, CONFIG_FILE), config)

  dcfg = dict(config["data"])
  name = dcfg.pop("name")
  tf_keras.utils.set_random_seed(config["train"]["seed"])
  # The batch size is global: Keras splits each batch over the replicas
  # (of every worker); in-memory data is sharded by element.
  train_ds, test_ds = (
      data_lib.load(
          name, split, batch_size=config["train"]["batch_size"], **dcfg
      ).with_options(_shard_by_data())
      for split in ("train", "test")
  )

  with strategy.scope():
    dist = make_distribution(config["model"])
    model = build_model(dist, config["train"]["learning_rate"])
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
    ckpt = _checkpoint(dist, model.optimizer, epoch)
    manager = tf.train.CheckpointManager(
        ckpt, os.path.join(write_dir, CHECKPOINT_DIR), max_to_keep=3
    )
    # Every worker resumes from the chief's latest checkpoint (the run dir
    # must be storage that all of them reach).
    latest = latest_checkpoint(run_dir)
    if latest:
      ckpt.restore(latest).assert_existing_objects_matched()
  start = int(epoch.numpy())
  if verbose and start:
    print(f"Resuming {run_dir} from epoch {start} ({latest})")

  saver = RunCheckpoint(manager, epoch, verbose)
  all_callbacks = [
      saver,
      tf_keras.callbacks.CSVLogger(
          os.path.join(write_dir, HISTORY_FILE), append=True
      ),
  ]
  if time_budget is not None:
    all_callbacks.append(TimeBudget(time_budget))
  all_callbacks.extend(callbacks)
  history = {}
  if start < epochs:
    history = model.fit(
        train_ds,
        validation_data=test_ds,
        initial_epoch=start,
        epochs=epochs,
        callbacks=all_callbacks,
        verbose=verbose,
    ).history
  if saver.stopped_on_nan and latest_checkpoint(run_dir):
    ckpt.restore(latest_checkpoint(run_dir))  # Back to the last good weights.
  if write_dir != run_dir:
    shutil.rmtree(write_dir, ignore_errors=True)
  return TrainResult(
      dist=dist,
      model=model,
      history=history,
      epoch=int(epoch.numpy()),
      stopped_on_nan=saver.stopped_on_nan,
  )


def is_chief(strategy: tf.distribute.Strategy) -> bool:
  """Whether this process writes the run dir: always, unless it is a
  non-chief worker of a multi-worker job (`TF_CONFIG`: the task of type
  "chief", or worker 0 when the cluster has no chief).

  Args:
    strategy: any `tf.distribute.Strategy`; only a multi-worker one's
      `cluster_resolver` can make this False.
  """
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.task_type:
    return True
  if resolver.task_type == "chief":
    return True
  has_chief = "chief" in resolver.cluster_spec().as_dict()
  return (
      not has_chief and resolver.task_type == "worker" and resolver.task_id == 0
  )


def _worker_dir(run_dir, strategy):
  resolver = strategy.cluster_resolver
  return os.path.join(
      run_dir, f".worker_{resolver.task_type}_{resolver.task_id}"
  )


def _shard_by_data():
  options = tf.data.Options()
  options.experimental_distribute.auto_shard_policy = (
      tf.data.experimental.AutoShardPolicy.DATA
  )
  return options


def _run_config(
    run_dir, data_config, model_kwargs, batch_size, learning_rate, seed
):
  """The run's config: the stored one when resuming, else built from args.

  Resuming with a different explicit data/model config is an error: the
  checkpoint would not fit, or would silently mean something else.
  """
  path = os.path.join(run_dir, CONFIG_FILE)
  stored = read_config(run_dir) if os.path.exists(path) else None

  if data_config is None:
    data_config = stored["data"] if stored else {"name": "digits"}
  if not isinstance(data_config, dict) or "name" not in data_config:
    raise ValueError(
        f"data_config: expected a dict with a 'name', got " f"{data_config!r}"
    )
  spec = data_lib.describe(
      data_config["name"],
      data_config.get("classes"),
      data_config.get("labels", "scalar"),
      data_config.get("data_dir"),
      data_config.get("image_size"),
      data_config.get("channels", 3),
  )
  dcfg = dict(data_config, classes=list(spec.classes), labels=spec.labels)
  if dcfg.get("image_size") is not None or spec.name == "folder":
    dcfg["image_size"] = list(spec.image_shape[:2])

  kwargs = (
      dict(stored["model"])
      if (stored and model_kwargs is None)
      else dict(model_kwargs or {})
  )
  derived = dict(
      image_shape=list(spec.image_shape),
      conditional_shape=(
          None
          if spec.conditional_shape is None
          else list(spec.conditional_shape)
      ),
      high=spec.high,
      low=spec.low,
  )
  for key, value in derived.items():
    given = kwargs.get(key, value)
    if key in ("image_shape", "conditional_shape") and given is not None:
      given = list(given)
    if key in kwargs and given != value:
      raise ValueError(
          f"{key}: model has {given!r} but the data gives " f"{value!r}"
      )
    kwargs[key] = value
  mcfg = model_config(**kwargs)
  tcfg = dict(
      batch_size=validation.as_int("batch_size", batch_size, minimum=1),
      learning_rate=float(learning_rate),
      seed=validation.as_int("seed", seed),
  )

  config = dict(model=mcfg, data=dcfg, train=tcfg)
  if stored is not None:
    for part in ("model", "data"):
      if stored[part] != config[part]:
        raise ValueError(
            f"run_dir: {run_dir!r} already holds a run with a different "
            f"{part} config ({stored[part]} != {config[part]}); use a new "
            f"run dir, or pass the same arguments to resume"
        )
    config["train"] = dict(
        stored["train"], **{k: v for k, v in tcfg.items() if k != "seed"}
    )
  return config
