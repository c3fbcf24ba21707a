"""Command line: `python -m tfp_fastpixel train|sample|complete|export|...`.

  train     train (or resume) a FastPixelCNN on a dataset into a run dir
  sample    write a PNG grid of samples from a run dir (--compare: real over
            generated, per class) and print the sampling time; uses the
            run's export (see `export`) when it is up to date
  complete  complete held-out images from their top rows: originals, masked
            inputs and completions side by side in one PNG
  export    write a SavedModel that needs only TensorFlow (default
            RUN_DIR/export, which `sample` then reuses)
  evaluate  print bits/dim of a run on its train or held-out split
  demo      offline end-to-end job on `digits`: train a small conditional
            model, print held-out bits/dim, write real-vs-generated PNGs per
            class, and measure FastPixelCNN's sampling speed against TFP's

User errors (a missing run dir, a bad flag value, an unknown label) print one
line, `error: ...`, and exit with status 2; set TFP_FASTPIXEL_DEBUG=1 for the
traceback. TensorFlow is imported only after the arguments are parsed.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from tfp_fastpixel import arguments
from tfp_fastpixel import run_dir as run_dir_lib

# The model flags are FastPixelCNN's constructor arguments, with its
# defaults (read from its signature), except these: the small model of TFP's
# PixelCNN docstring rather than TFP's 160 filters, so that a CPU run ends.
CLI_MODEL_DEFAULTS = dict(
    num_resnet=1,
    num_hierarchies=2,
    num_filters=32,
    num_logistic_mix=5,
    dropout_p=0.3,
)
# Set by the data (shape, range) or not a model property.
_NOT_FLAGS = (
    "image_shape",
    "conditional_shape",
    "high",
    "low",
    "dtype",
    "jit_compile",
)


def add_model_flags(parser: argparse.ArgumentParser, overrides=None):
  """Adds `--<argument>` for each FastPixelCNN argument a user picks.

  Types and defaults come from the constructor's signature
  (`arguments.model_defaults()`), updated by `CLI_MODEL_DEFAULTS` and then
  `overrides`; the values are checked by the constructor's own validator
  when the model is built. `model_kwargs(args)` reads them back.
  """
  defaults = arguments.model_defaults()
  defaults.update(CLI_MODEL_DEFAULTS)
  defaults.update(overrides or {})
  g = parser.add_argument_group("model (FastPixelCNN constructor arguments)")
  for name in model_flag_names():
    value = defaults[name]
    if isinstance(value, bool):
      g.add_argument(
          f"--{name}", action=argparse.BooleanOptionalAction, default=value
      )
    elif isinstance(value, tuple):
      g.add_argument(
          f"--{name}",
          type=type(value[0]),
          nargs=len(value),
          default=list(value),
          metavar="N",
          help=f"default: {' '.join(map(str, value))}",
      )
    else:
      g.add_argument(
          f"--{name}",
          type=type(value),
          default=value,
          help="default: %(default)s",
      )


def model_flag_names():
  """The FastPixelCNN arguments that are CLI flags, in signature order."""
  return [n for n in arguments.model_defaults() if n not in _NOT_FLAGS]


def model_kwargs(args) -> dict:
  """The model flags of parsed `args`, as FastPixelCNN keyword arguments."""
  return {n: getattr(args, n) for n in model_flag_names()}


def _add_data_flags(p, dataset="digits"):
  g = p.add_argument_group("data")
  g.add_argument(
      "--dataset",
      default=dataset,
      help="digits (offline), cifar10, quickdraw or folder",
  )
  g.add_argument(
      "--data_dir",
      default=None,
      help="tfds data dir; the image root for --dataset folder",
  )
  g.add_argument(
      "--classes",
      nargs="+",
      default=None,
      help="class names or ids to keep ('post': the post's 20 "
      "QuickDraw classes); quote names with spaces",
  )
  g.add_argument(
      "--take",
      type=int,
      default=None,
      help="use only the first N examples (the post's train[:N])",
  )
  g.add_argument(
      "--labels",
      default="scalar",
      choices=["scalar", "onehot", "none"],
      help="conditional input: class id, one-hot, or none (unconditional)",
  )
  g.add_argument("--heldout_fraction", type=float, default=0.1)
  g.add_argument(
      "--image_size",
      type=int,
      nargs=2,
      default=None,
      metavar=("H", "W"),
      help="resize folder images",
  )
  g.add_argument(
      "--channels",
      type=int,
      default=3,
      choices=[1, 3],
      help="channels of folder images",
  )


def add_train_flags(p, epochs=10, batch_size=32):
  """Training flags, shared by `train`, `demo` and the examples."""
  g = p.add_argument_group("training")
  g.add_argument(
      "--epochs",
      type=int,
      default=epochs,
      help="total epochs of the run (resuming counts earlier ones)",
  )
  g.add_argument("--batch_size", type=int, default=batch_size)
  g.add_argument("--learning_rate", type=float, default=1e-3)
  g.add_argument("--seed", type=int, default=0)
  g.add_argument(
      "--time_budget",
      type=float,
      default=None,
      help="seconds; stop after the epoch that exceeds it",
  )
  g.add_argument(
      "--strategy",
      default="none",
      choices=["none", "mirrored", "multiworker"],
      help="mirrored: every device of this machine; multiworker: "
      "MultiWorkerMirroredStrategy over the workers in TF_CONFIG (run once "
      "per worker, all with the same --out on shared storage); "
      "--batch_size is the global batch either way",
  )
  g.add_argument(
      "--distribute",
      dest="strategy",
      action="store_const",
      const="mirrored",
      help="the same as --strategy mirrored",
  )
  g.add_argument(
      "--cpu_devices",
      type=int,
      default=None,
      help="split the CPU into this many logical devices (to try "
      "--distribute without GPUs)",
  )
  g.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
      prog="python -m tfp_fastpixel",
      description="Train tfd.PixelCNN models with Keras and sample them fast.",
  )
  sub = parser.add_subparsers(dest="command", required=True)

  p = sub.add_parser("train", help="train or resume a run")
  _add_data_flags(p)
  add_model_flags(p)
  add_train_flags(p)
  p.add_argument("--out", required=True, help="run directory")
  p.add_argument(
      "--resume",
      action="store_true",
      help="continue --out with its stored data/model config "
      "(data and model flags are ignored)",
  )

  p = sub.add_parser(
      "sample",
      help="write a PNG grid of samples, or (--out_dir) a large sampling "
      "job in resumable .npz shards",
  )
  p.add_argument("--run", required=True, help="run directory")
  p.add_argument(
      "--n",
      type=int,
      default=None,
      help="samples per class for --out (default 8); images in all for "
      "--out_dir",
  )
  p.add_argument(
      "--label",
      nargs="+",
      default=None,
      help="class name(s) or id(s); default: every class",
  )
  p.add_argument("--out", default=None, help="PNG file")
  p.add_argument(
      "--out_dir",
      default=None,
      help="write --n images as shard_*.npz files here; re-running the same "
      "command skips the shards already written",
  )
  p.add_argument("--shard_size", type=int, default=1000)
  p.add_argument(
      "--cpu_devices",
      type=int,
      default=None,
      help="split the CPU into this many logical devices (shards are split "
      "over every device)",
  )
  p.add_argument(
      "--compare",
      action="store_true",
      help="real images (top row) over generated ones, per class",
  )
  p.add_argument(
      "--baseline",
      action="store_true",
      help="also time TFP's own sampler on the same weights",
  )
  p.add_argument("--seed", type=int, default=0)
  p.add_argument(
      "--zoom",
      type=int,
      default=None,
      help="upscaling per tile (default: tiles about 64 px)",
  )
  p.add_argument(
      "--progress",
      action=argparse.BooleanOptionalAction,
      default=True,
      help="progress bar over image rows (live "
      "model only; runs the graph path)",
  )
  p.add_argument(
      "--use_export",
      action=argparse.BooleanOptionalAction,
      default=True,
      help="sample with RUN_DIR/export when it was "
      "made from the latest checkpoint",
  )

  p = sub.add_parser(
      "complete", help="complete held-out images from their top rows"
  )
  p.add_argument("--run", required=True, help="run directory")
  p.add_argument(
      "--rows",
      type=int,
      required=True,
      help="image rows kept (observed); the rest is sampled",
  )
  p.add_argument("--out", required=True, help="PNG file")
  p.add_argument(
      "--images",
      type=int,
      default=4,
      help="held-out images (spread over the classes)",
  )
  p.add_argument(
      "--samples", type=int, default=4, help="completions drawn per image"
  )
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--zoom", type=int, default=None)
  p.add_argument(
      "--progress",
      action=argparse.BooleanOptionalAction,
      default=True,
      help="progress bar over image rows",
  )

  p = sub.add_parser(
      "export", help="write a SavedModel that needs only TensorFlow"
  )
  p.add_argument("--run", required=True, help="run directory")
  p.add_argument(
      "--out",
      default=None,
      help="export directory (default RUN_DIR/export, which "
      "`sample` reuses)",
  )

  p = sub.add_parser("evaluate", help="print bits/dim of a run")
  p.add_argument("--run", required=True)
  p.add_argument("--split", default="test", choices=["train", "test"])

  p = sub.add_parser("demo", help="offline end-to-end job on digits")
  p.add_argument("--out", default="runs/digits", help="run directory")
  p.add_argument("--labels", default="onehot", choices=["scalar", "onehot"])
  p.add_argument("--n", type=int, default=8, help="samples per class")
  # Held-out bits/dim on digits bottoms out after ~15-20 epochs of this model
  # (1,617 training images); the time budget keeps slow machines near 3 min.
  add_model_flags(p, dict(num_resnet=2))
  add_train_flags(p, epochs=20)
  p.set_defaults(time_budget=180.0, batch_size=32, learning_rate=2e-3)
  return parser


class UsageError(ValueError):
  """A user error found by the CLI itself (reported without a traceback)."""


# Errors that mean bad input: the library raises these, naming the argument,
# before doing any work. Anything else is a bug and keeps its traceback.
_USER_ERRORS = (ValueError, TypeError, FileNotFoundError, NotADirectoryError)


def main(argv=None) -> int:
  args = build_parser().parse_args(argv)  # exits 2 on bad flags, no TF yet
  commands = {
      "train": _train,
      "sample": _sample,
      "complete": _complete,
      "export": _export,
      "evaluate": _evaluate,
      "demo": _demo,
  }
  try:
    if getattr(args, "cpu_devices", None):
      _split_cpu(args.cpu_devices)
    return commands[args.command](args)
  except _USER_ERRORS as e:
    if os.environ.get("TFP_FASTPIXEL_DEBUG"):
      raise
    message = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
    print(f"error: {message}", file=sys.stderr)
    return 2


# ---------------------------------------------------------------------------
# Subcommands.


def _split_cpu(n):
  if n < 1:
    raise UsageError(f"--cpu_devices: expected >= 1, got {n}")
  import tensorflow as tf

  cpu = tf.config.list_physical_devices("CPU")[0]
  try:
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * n
    )
  except RuntimeError as e:  # TF already initialized its devices.
    raise UsageError(f"--cpu_devices must be set before TF starts: {e}") from e


def _data_config(args):
  cfg = dict(
      name=args.dataset,
      labels=None if args.labels == "none" else args.labels,
      heldout_fraction=args.heldout_fraction,
  )
  for key in ("data_dir", "classes", "take", "image_size"):
    if getattr(args, key) is not None:
      cfg[key] = getattr(args, key)
  if args.dataset == "folder":
    cfg["channels"] = args.channels
  if cfg.get("classes") == ["post"]:
    cfg["classes"] = "post"
  return cfg


def _run_training(args, data_config, resume=False):
  import tensorflow as tf

  from tfp_fastpixel import train as train_lib

  strategy = None
  if args.strategy == "multiworker":
    if "TF_CONFIG" not in os.environ:
      raise UsageError(
          "--strategy multiworker: set TF_CONFIG for each worker (see the "
          "README's section on running across machines)"
      )
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
  elif args.strategy == "mirrored":
    strategy = tf.distribute.MirroredStrategy()
  if strategy is not None:
    print(
        f"{type(strategy).__name__} over {strategy.num_replicas_in_sync} "
        "replicas",
        flush=True,
    )
  start = time.time()
  if resume and not os.path.exists(
      os.path.join(args.out, train_lib.CONFIG_FILE)
  ):
    raise UsageError(f"--resume: {args.out!r} holds no run to resume")
  result = train_lib.train(
      args.out,
      None if resume else data_config,
      None if resume else model_kwargs(args),
      epochs=args.epochs,
      batch_size=args.batch_size,
      learning_rate=args.learning_rate,
      strategy=strategy,
      verbose=args.verbose,
      time_budget=args.time_budget,
      seed=args.seed,
  )
  print(
      f"trained to epoch {result.epoch} in {time.time() - start:.1f} s"
      + (
          " (stopped on NaN; kept the last good checkpoint)"
          if result.stopped_on_nan
          else ""
      )
  )
  return result


def _train(args):
  result = _run_training(args, _data_config(args), resume=args.resume)
  bpd = _heldout_bits_per_dim(result.dist, args.out)
  print(f"held-out bits/dim: {bpd:.4f}")
  return 1 if result.stopped_on_nan else 0


def _heldout_bits_per_dim(dist, run_dir, split="test"):
  from tfp_fastpixel import data as data_lib
  from tfp_fastpixel import train as train_lib

  config = train_lib.read_config(run_dir)
  dcfg = dict(config["data"])
  ds = data_lib.load(
      dcfg.pop("name"), split, batch_size=256, shuffle=False, **dcfg
  )
  return train_lib.evaluate_bits_per_dim(dist, ds)


def _evaluate(args):
  from tfp_fastpixel import train as train_lib

  dist, _ = train_lib.load_distribution(args.run)
  bpd = _heldout_bits_per_dim(dist, args.run, args.split)
  print(f"{args.split} bits/dim: {bpd:.4f}")
  return 0


def _spec(config):
  from tfp_fastpixel import data as data_lib

  d = config["data"]
  return data_lib.describe(
      d["name"],
      d.get("classes"),
      d.get("labels"),
      d.get("data_dir"),
      d.get("image_size"),
      d.get("channels", 3),
  )


def _real_images(config, class_ids, n):
  """First `n` held-out images per class (train ones where test runs out).

  Returns: float32 `[G, n, H, W, C]` (`G = len(class_ids)`, or 1 with
  `class_ids=None` for unconditional runs).
  """
  from tfp_fastpixel import data as data_lib

  dcfg = dict(config["data"])
  name = dcfg.pop("name")
  groups = []
  for cid in (class_ids if class_ids is not None else [None]):
    cfg = dict(dcfg, labels=None)
    if cid is not None:
      cfg["classes"] = [int(cid)]
    images = []
    for split in ("test", "train"):
      ds = data_lib.load(name, split, batch_size=n, shuffle=False, **cfg)
      for (batch,) in ds:
        images.extend(batch.numpy())
        if len(images) >= n:
          break
      if len(images) >= n:
        break
    if len(images) < n:
      raise UsageError(f"--n: only {len(images)} real images of class {cid}")
    groups.append(np.stack(images[:n]))
  return np.stack(groups)


def sample_grid(dist, spec, class_ids, n, seed=0, progress=False):
  """Samples `n` images per class with `dist.sample`, timed.

  Returns:
    `(samples [G, n, H, W, C], seconds)`.
  """
  import tensorflow as tf

  if class_ids is None:  # Unconditional.
    start = time.time()
    samples = dist.sample(n, seed=seed, progress=progress)
    samples = tf.convert_to_tensor(samples).numpy()
    return samples[None], time.time() - start
  cond = spec.conditional_input(np.repeat(class_ids, n))
  start = time.time()
  samples = dist.sample(
      len(cond), conditional_input=cond, seed=seed, progress=progress
  )
  samples = tf.convert_to_tensor(samples).numpy()
  seconds = time.time() - start
  return samples.reshape((len(class_ids), n) + samples.shape[1:]), seconds


def tfp_sample_seconds(dist, spec, class_ids, n, seed=0):
  """Seconds TFP's own sampler (`tfd.PixelCNN._sample_n`, eager, one network
  call per pixel) takes for the same request on the same weights."""
  import tensorflow as tf
  import tensorflow_probability as tfp

  kwargs = {}
  total = n
  if class_ids is not None:
    kwargs["conditional_input"] = spec.conditional_input(
        np.repeat(class_ids, n)
    )
    total = len(kwargs["conditional_input"])
  start = time.time()
  out = tfp.distributions.PixelCNN._sample_n(dist, total, seed=seed, **kwargs)
  tf.convert_to_tensor(out).numpy()
  return time.time() - start


def _class_ids(spec, labels):
  if spec.labels is None:
    if labels:
      raise UsageError("--label: this run is unconditional")
    return None
  ids = spec.resolve(labels) if labels else spec.classes
  unknown = sorted(set(ids) - set(spec.classes))
  if unknown:
    raise UsageError(
        f"--label: classes {unknown} were not trained on "
        f"(run classes: {list(spec.classes)})"
    )
  return list(ids)


def _zoom(spec, zoom):
  return zoom or max(1, 64 // max(spec.image_shape[:2]))


class _ExportedSampler:
  """`sample(n, seed=, conditional_input=)` through a run's SavedModel.

  A seed gives the live model's images (both use `stateless_seed`).
  """

  def __init__(self, path):
    import tensorflow as tf

    self.model = tf.saved_model.load(path)

  def sample(self, n, seed=0, conditional_input=None, progress=False):
    del progress  # one compiled call: no rows to report
    import tensorflow as tf

    from tfp_fastpixel.validation import stateless_seed

    kwargs = dict(n=tf.constant(n, tf.int32), seed=stateless_seed(seed))
    if conditional_input is not None:
      kwargs["conditional_input"] = tf.convert_to_tensor(
          conditional_input, tf.float32
      )
    return self.model.sample(**kwargs)


def _checkpoint_state(run_dir):
  """The run's checkpoint index file, as text ('' before the first one).

  Read without TensorFlow, so that `sample` can pick its path (and set
  the XLA cache) before TensorFlow starts.
  """
  path = os.path.join(run_dir, run_dir_lib.CHECKPOINT_DIR, "checkpoint")
  if not os.path.exists(path):
    return ""
  with open(path) as f:
    return f.read()


def _current_export(run_dir):
  """RUN_DIR/export if it was made from the run's latest checkpoint."""
  path = os.path.join(run_dir, run_dir_lib.EXPORT_DIR)
  stamp = os.path.join(path, run_dir_lib.EXPORT_STAMP)
  if not os.path.exists(stamp):
    return None
  with open(stamp) as f:
    made_from = f.read()
  state = _checkpoint_state(run_dir)
  return path if state and made_from == state else None


def _use_xla_cache(export):
  """Keeps XLA's compilations next to the export, so later runs reuse them.

  Must run before TensorFlow starts; a cache the user set is kept.
  """
  flags = os.environ.get("TF_XLA_FLAGS", "")
  if "tf_xla_persistent_cache_directory" not in flags:
    cache = os.path.join(export, "xla_cache")
    os.environ["TF_XLA_FLAGS"] = (
        f"{flags} --tf_xla_persistent_cache_directory={cache}".strip()
    )


def _check_run_dir(run_dir):
  if not os.path.isdir(run_dir):
    raise UsageError(f"--run: {run_dir!r} is not a directory")
  if not os.path.exists(os.path.join(run_dir, run_dir_lib.CONFIG_FILE)):
    raise UsageError(
        f"--run: {run_dir!r} holds no run ({run_dir_lib.CONFIG_FILE}"
        " is missing)"
    )


def _sample(args):
  if (args.out is None) == (args.out_dir is None):
    raise UsageError("sample: give exactly one of --out (a PNG) and --out_dir")
  if args.out_dir is not None:
    return _sample_shards(args)
  args.n = 8 if args.n is None else args.n
  if args.n < 1:
    raise UsageError(f"--n: expected >= 1, got {args.n}")
  _check_run_dir(args.run)
  export = (
      _current_export(args.run)
      if (args.use_export and not args.baseline)
      else None
  )
  if export:
    _use_xla_cache(export)
  from tfp_fastpixel import grid  # TensorFlow starts here
  from tfp_fastpixel import train as train_lib

  config = train_lib.read_config(args.run)
  spec = _spec(config)
  class_ids = _class_ids(spec, args.label)
  if export:
    print(f"sampling with the run's export {export}")
    dist = _ExportedSampler(export)
  else:
    dist, config = train_lib.load_distribution(args.run)
  samples, seconds = sample_grid(
      dist,
      spec,
      class_ids,
      args.n,
      args.seed,
      progress=args.progress,
  )
  print(
      f"sampled {samples.shape[0] * samples.shape[1]} images of shape "
      f"{list(spec.image_shape)} in {seconds:.2f} s"
  )
  if args.compare:
    real = _real_images(config, class_ids, args.n)
    image = grid.compare_grid(
        real, samples, spec.low, spec.high, zoom=_zoom(spec, args.zoom)
    )
  else:
    image = grid.make_grid(
        grid.to_uint8(samples, spec.low, spec.high), zoom=_zoom(spec, args.zoom)
    )
  grid.write_png(args.out, image)
  print(f"wrote {args.out}")
  if args.baseline:
    _print_speedup(dist, spec, class_ids, args.n, args.seed, seconds)
  return 0


def _sample_shards(args):
  if args.n is None:
    raise UsageError("--n: give the number of images to draw into --out_dir")
  for flag in ("n", "shard_size"):
    if getattr(args, flag) < 1:
      raise UsageError(f"--{flag}: expected >= 1, got {getattr(args, flag)}")
  if args.compare or args.baseline:
    raise UsageError("--compare and --baseline are for --out (a PNG)")
  _check_run_dir(args.run)
  from tfp_fastpixel import shards
  from tfp_fastpixel import train as train_lib

  dist, config = train_lib.load_distribution(args.run)
  spec = _spec(config)
  class_ids = _class_ids(spec, args.label)
  manifest = shards.sample_shards(
      dist,
      spec,
      args.out_dir,
      args.n,
      args.shard_size,
      class_ids,
      args.seed,
      config,
      verbose=args.progress,
  )
  rate = manifest["images_per_second"]
  print(
      f"{args.out_dir}: {manifest['num_shards']} shards of up to "
      f"{args.shard_size} images ({args.n} in all) on "
      f"{manifest['replicas']} device(s); drew {manifest['drawn_this_run']} "
      "this run" + (f" at {rate:.1f} images/s" if rate else "")
  )
  return 0


def _export(args):
  from tfp_fastpixel import export as export_lib
  from tfp_fastpixel import train as train_lib

  _check_run_dir(args.run)
  out = args.out or os.path.join(args.run, run_dir_lib.EXPORT_DIR)
  dist, _ = train_lib.load_distribution(args.run)
  if os.path.exists(out):
    if not os.path.exists(os.path.join(out, run_dir_lib.EXPORT_STAMP)):
      raise UsageError(
          f"--out: {out!r} exists and is not an export of "
          "this tool; choose a new directory"
      )
    import shutil

    shutil.rmtree(out)  # an older export of a run: replace it
  export_lib.export_saved_model(dist, out)
  with open(os.path.join(out, run_dir_lib.EXPORT_STAMP), "w") as f:
    f.write(_checkpoint_state(args.run))
  print(f"exported {args.run} to {out}")
  return 0


def completion_grid(
    dist, spec, images, class_ids, rows, samples, seed=0, progress=False, zoom=1
):
  """Originals, masked inputs and completions, one image per grid row.

  Args:
    images: `[B, H, W, C]` real images; `class_ids`: their classes (or
      None); rows: image rows observed; samples: completions per image.

  Returns:
    uint8 grid: per image, [original, masked, completion 1..samples].
  """
  from tfp_fastpixel import grid

  h, w = spec.image_shape[:2]
  cond = (
      None
      if class_ids is None
      else spec.conditional_input(np.asarray(class_ids))
  )
  out = dist.complete(
      images,
      rows * w,
      sample_shape=samples,
      seed=seed,
      conditional_input=cond,
      progress=progress,
  )
  out = np.moveaxis(np.asarray(out), 0, 1)  # [B, S, H, W, C]
  masked = np.array(images, np.float32)
  masked[:, rows:] = spec.low
  gray = grid.to_uint8(masked, spec.low, spec.high)
  gray[:, rows:] = 128  # unobserved
  tiles = np.concatenate(
      [
          grid.to_uint8(images, spec.low, spec.high)[:, None],
          gray[:, None],
          grid.to_uint8(out, spec.low, spec.high),
      ],
      axis=1,
  )
  return grid.make_grid(tiles, zoom=zoom)


def _complete(args):
  from tfp_fastpixel import grid
  from tfp_fastpixel import train as train_lib

  _check_run_dir(args.run)
  config = train_lib.read_config(args.run)
  spec = _spec(config)
  h = spec.image_shape[0]
  if not 0 <= args.rows <= h:
    raise UsageError(
        f"--rows: expected 0..{h} (image height), got " f"{args.rows}"
    )
  for flag in ("images", "samples"):
    if getattr(args, flag) < 1:
      raise UsageError(f"--{flag}: expected >= 1, got {getattr(args, flag)}")
  dist, _ = train_lib.load_distribution(args.run)
  if spec.labels is None:
    class_ids = None
    images = _real_images(config, None, args.images)[0]
  else:  # spread the images over the classes, one real image each
    class_ids = [
        spec.classes[i % len(spec.classes)] for i in range(args.images)
    ]
    per_class = {c: class_ids.count(c) for c in set(class_ids)}
    real = {
        c: list(_real_images(config, [c], k)[0]) for c, k in per_class.items()
    }
    images = np.stack([real[c].pop(0) for c in class_ids])
  start = time.time()
  image = completion_grid(
      dist,
      spec,
      images,
      class_ids,
      args.rows,
      args.samples,
      args.seed,
      args.progress,
      _zoom(spec, args.zoom),
  )
  print(
      f"completed {args.images} images x {args.samples} from their top "
      f"{args.rows} rows in {time.time() - start:.2f} s"
  )
  grid.write_png(args.out, image)
  print(f"wrote {args.out} (per row: original, observed rows, completions)")
  return 0


def _print_speedup(dist, spec, class_ids, n, seed, first_seconds):
  _, warm = sample_grid(dist, spec, class_ids, n, seed + 1)
  tfp_seconds = tfp_sample_seconds(dist, spec, class_ids, n, seed)
  total = n * (len(class_ids) if class_ids is not None else 1)
  print(
      f"sampling {total} images, measured on this machine:\n"
      f"  FastPixelCNN.sample:        {warm:.2f} s "
      f"(first call, with tracing: {first_seconds:.2f} s)\n"
      f"  TFP PixelCNN._sample_n:     {tfp_seconds:.2f} s\n"
      f"  speedup: {tfp_seconds / warm:.1f}x "
      f"({tfp_seconds / first_seconds:.1f}x counting tracing)"
  )
  return tfp_seconds / warm


def _demo(args):
  """Offline end-to-end job: digits, conditional, a few minutes on a CPU."""
  from tfp_fastpixel import grid

  start = time.time()
  args.dataset = "digits"
  data_config = dict(name="digits", labels=args.labels)
  result = _run_training(args, data_config)
  bpd = _heldout_bits_per_dim(result.dist, args.out)
  print(f"held-out bits/dim: {bpd:.4f}")

  from tfp_fastpixel import train as train_lib

  spec = _spec(train_lib.read_config(args.out))
  class_ids = list(spec.classes)
  samples, seconds = sample_grid(
      result.dist, spec, class_ids, args.n, args.seed
  )
  real = _real_images(train_lib.read_config(args.out), class_ids, args.n)
  zoom = _zoom(spec, None)
  paths = []
  for g, cid in enumerate(class_ids):
    paths.append(
        grid.write_png(
            os.path.join(args.out, f"compare_{spec.class_names[cid]}.png"),
            grid.compare_grid(real[g], samples[g], spec.low, spec.high, zoom),
        )
    )
  grid.write_png(
      os.path.join(args.out, "compare_all.png"),
      grid.compare_grid(real, samples, spec.low, spec.high, zoom),
  )
  print(
      f"wrote {len(paths)} real-vs-generated PNGs (real top row, generated "
      f"bottom row) and compare_all.png to {args.out}"
  )
  speedup = _print_speedup(
      result.dist, spec, class_ids, args.n, args.seed, seconds
  )
  summary = dict(
      heldout_bits_per_dim=bpd,
      epochs=result.epoch,
      speedup_vs_tfp=speedup,
      wall_seconds=time.time() - start,
  )
  with open(os.path.join(args.out, "demo.json"), "w") as f:
    json.dump(summary, f, indent=2)
  print(f"demo done in {summary['wall_seconds']:.0f} s")
  return 0


if __name__ == "__main__":
  sys.exit(main())
