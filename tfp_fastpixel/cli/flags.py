"""The flags that several commands share: model, data and training flags.

The model flags are FastPixelCNN's constructor arguments, read from its
signature without importing TensorFlow, so that `--help` and flag errors
come before TensorFlow starts.
"""

import argparse

from tfp_fastpixel import arguments

# The model flags take FastPixelCNN's defaults (read from its signature),
# except these: the small model of TFP's PixelCNN docstring rather than
# TFP's 160 filters, so that a CPU run ends.
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


def add_data_flags(p, dataset="digits"):
  """Adds the flags that pick a data set (`tfp_fastpixel.data.load`'s)."""
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


def data_config(args) -> dict:
  """The data flags of parsed `args`, as `tfp_fastpixel.data.load` keyword
  arguments (with the data set's `name`)."""
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


def add_train_flags(p, epochs=10, batch_size=32):
  """Adds the training flags of `train` and `demo`."""
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
