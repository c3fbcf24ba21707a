"""`export`: write a run's SavedModel, which needs only TensorFlow (by
default to RUN_DIR/export, which `sample` then reuses)."""

import os

from tfp_fastpixel import run_dir as run_dir_lib
from tfp_fastpixel.cli import UsageError


def add_parser(sub):
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


def before_tensorflow(args):
  """Checks that `--run` holds a run."""
  run_dir_lib.check(args.run, "--run")


def run(args):
  from tfp_fastpixel import export as export_lib
  from tfp_fastpixel import train as train_lib

  out = args.out or os.path.join(args.run, run_dir_lib.EXPORT_DIR)
  dist, _ = train_lib.load_distribution(args.run)
  if os.path.exists(out):
    if not run_dir_lib.is_export(out):
      raise UsageError(
          f"--out: {out!r} exists and is not an export of "
          "this tool; choose a new directory"
      )
    import shutil

    shutil.rmtree(out)  # an older export of a run: replace it
  export_lib.export_saved_model(dist, out)
  run_dir_lib.write_export_stamp(out, args.run)
  print(f"exported {args.run} to {out}")
  return 0
