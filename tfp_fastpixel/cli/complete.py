"""`complete`: complete held-out images from their top rows, into one PNG of
originals, masked inputs and completions side by side."""

import argparse
import time

import numpy as np

from tfp_fastpixel import run_dir as run_dir_lib
from tfp_fastpixel.cli import UsageError
from tfp_fastpixel.cli import run_data


def add_parser(sub):
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


def before_tensorflow(args):
  """Checks that `--run` holds a run."""
  run_dir_lib.check(args.run, "--run")


def run(args):
  from tfp_fastpixel import grid
  from tfp_fastpixel import train as train_lib

  config = train_lib.read_config(args.run)
  spec = run_data.spec(config)
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
    images = run_data.real_images(config, None, args.images)[0]
  else:  # spread the images over the classes, one real image each
    class_ids = [
        spec.classes[i % len(spec.classes)] for i in range(args.images)
    ]
    per_class = {c: class_ids.count(c) for c in set(class_ids)}
    real = {
        c: list(run_data.real_images(config, [c], k)[0])
        for c, k in per_class.items()
    }
    images = np.stack([real[c].pop(0) for c in class_ids])
  start = time.time()
  image = grid.completion_grid(
      dist,
      spec,
      images,
      class_ids,
      args.rows,
      args.samples,
      args.seed,
      args.progress,
      args.zoom or grid.default_zoom(spec.image_shape),
  )
  print(
      f"completed {args.images} images x {args.samples} from their top "
      f"{args.rows} rows in {time.time() - start:.2f} s"
  )
  grid.write_png(args.out, image)
  print(f"wrote {args.out} (per row: original, observed rows, completions)")
  return 0
