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

Each command is a module of this package with `add_parser(subparsers)` and
`run(args) -> exit status`; `flags` holds the flags they share.

User errors (a missing run dir, a bad flag value, an unknown label) print one
line, `error: ...`, and exit with status 2; set TFP_FASTPIXEL_DEBUG=1 for the
traceback. TensorFlow is imported only after the arguments are parsed, and
its C++ start-up logs are off unless the user set TF_CPP_MIN_LOG_LEVEL.
"""

import argparse
import importlib
import os
import sys

# The commands, in the order `--help` lists them; each names a module here.
COMMANDS = ("train", "sample", "complete", "export", "evaluate", "demo")


class UsageError(ValueError):
  """A user error found by the CLI itself (reported without a traceback)."""


# Errors that mean bad input: the library raises these, naming the argument,
# before doing any work. Anything else is a bug and keeps its traceback.
_USER_ERRORS = (ValueError, TypeError, FileNotFoundError, NotADirectoryError)


def _command(name):
  # Imported here, not at the top: the command modules import UsageError
  # from this package.
  return importlib.import_module(f"tfp_fastpixel.cli.{name}")


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
      prog="python -m tfp_fastpixel",
      description="Train tfd.PixelCNN models with Keras and sample them fast.",
  )
  sub = parser.add_subparsers(dest="command", required=True)
  for name in COMMANDS:
    _command(name).add_parser(sub)
  return parser


def main(argv=None) -> int:
  # TensorFlow's C++ start-up logs (CUDA probing, oneDNN, XLA service) would
  # bury the CLI's own lines; TensorFlow reads this when it loads.
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  args = build_parser().parse_args(argv)  # exits 2 on bad flags, no TF yet
  try:
    if getattr(args, "cpu_devices", None):
      _split_cpu(args.cpu_devices)
    return _command(args.command).run(args)
  except _USER_ERRORS as e:
    if os.environ.get("TFP_FASTPIXEL_DEBUG"):
      raise
    message = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
    print(f"error: {message}", file=sys.stderr)
    return 2


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
