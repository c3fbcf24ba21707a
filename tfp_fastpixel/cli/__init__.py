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

Each command is a module of this package with `add_parser(subparsers)`,
`run(args) -> exit status` and, where some checks need no TensorFlow,
`before_tensorflow(args)`; `flags` holds the flags they share. `main`
parses the flags, runs `before_tensorflow`, starts TensorFlow, then `run`.

User errors (a missing run dir, a bad flag value, an unknown label) print one
line, `error: ...`, and exit with status 2; set TFP_FASTPIXEL_DEBUG=1 for the
traceback. TensorFlow is imported only after the arguments are parsed, and
TF_CPP_MIN_LOG_LEVEL is 2 (no C++ INFO or WARNING lines) unless the user set
it.
"""

import argparse
import importlib
import os
import re
import sys
import tempfile

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
  command = _command(args.command)
  try:
    cpu_devices = getattr(args, "cpu_devices", None)
    if cpu_devices and cpu_devices < 1:
      raise UsageError(f"--cpu_devices: expected >= 1, got {cpu_devices}")
    # A command's checks that need no TensorFlow answer at once; some also
    # set environment variables that TensorFlow reads as it starts.
    if hasattr(command, "before_tensorflow"):
      command.before_tensorflow(args)
    _start_tensorflow()
    if cpu_devices:
      _split_cpu(cpu_devices)
    return command.run(args)
  except _USER_ERRORS as e:
    if os.environ.get("TFP_FASTPIXEL_DEBUG"):
      raise
    message = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
    print(f"error: {message}", file=sys.stderr)
    return 2


# A line absl writes before its logging is initialized: severity letter,
# MMDD, time (the seconds may be counted from 1970), thread id, file:line.
_C_LOG_LINE = re.compile(rb"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] ")
_ABSL_BANNER = b"WARNING: All log messages before absl::InitializeLog()"


def _start_tensorflow():
  """Imports TensorFlow, holding the lines its libraries log as they load to
  TF_CPP_MIN_LOG_LEVEL, as TensorFlow holds its later ones.

  While TensorFlow's shared libraries load, absl writes every log line to
  stderr whatever the level (e.g. `I0000 ... cudart_stub.cc:31] Could not
  find cuda drivers`). So stderr goes to a file during the import, and
  only its lines at or above the level are written back.
  """
  if "tensorflow" in sys.modules:
    return
  try:
    level = int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
  except ValueError:
    level = 0
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile() as held:
    os.dup2(held.fileno(), 2)
    try:
      import tensorflow  # noqa: F401
    finally:
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)
      held.seek(0)
      for line in held.read().splitlines(keepends=True):
        match = _C_LOG_LINE.match(line)
        severity = "IWEF".index(match[1].decode()) if match else None
        if line.startswith(_ABSL_BANNER):
          severity = 1  # a warning
        if severity is None or severity >= level:
          os.write(2, line)


def _split_cpu(n):
  import tensorflow as tf

  cpu = tf.config.list_physical_devices("CPU")[0]
  try:
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * n
    )
  except RuntimeError as e:  # TF already initialized its devices.
    raise UsageError(f"--cpu_devices must be set before TF starts: {e}") from e
