"""`sample`: draw from a run, into a PNG grid (`--out`) or into resumable
.npz shards (`--out_dir`).

A PNG grid is drawn with the run's export when it is up to date (see
`export`), and prints the sampling time; `--compare` puts real images over
generated ones, and `--baseline` also times TFP's own sampler.
"""

import argparse
import time

import numpy as np

from tfp_fastpixel import run_dir as run_dir_lib
from tfp_fastpixel.cli import UsageError
from tfp_fastpixel.cli import run_data


def add_parser(sub):
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


def before_tensorflow(args):
  """Checks the flags and the run dir; with `--out`, picks the run's export
  when it is current and keeps XLA's compilations next to it (XLA reads
  that setting as TensorFlow starts)."""
  if (args.out is None) == (args.out_dir is None):
    raise UsageError("sample: give exactly one of --out (a PNG) and --out_dir")
  if args.out_dir is not None:
    if args.n is None:
      raise UsageError("--n: give the number of images to draw into --out_dir")
    for flag in ("n", "shard_size"):
      if getattr(args, flag) < 1:
        raise UsageError(f"--{flag}: expected >= 1, got {getattr(args, flag)}")
    if args.compare or args.baseline:
      raise UsageError("--compare and --baseline are for --out (a PNG)")
    run_dir_lib.check(args.run, "--run")
    return
  args.n = 8 if args.n is None else args.n
  if args.n < 1:
    raise UsageError(f"--n: expected >= 1, got {args.n}")
  run_dir_lib.check(args.run, "--run")
  args.export = (
      run_dir_lib.current_export(args.run)
      if (args.use_export and not args.baseline)
      else None
  )
  if args.export:
    run_dir_lib.use_xla_cache(args.export)


def run(args):
  if args.out_dir is not None:
    return _sample_shards(args)
  return _sample_png(args)


def _sample_png(args):
  from tfp_fastpixel import grid
  from tfp_fastpixel import train as train_lib

  export = args.export  # picked by before_tensorflow

  config = train_lib.read_config(args.run)
  spec = run_data.spec(config)
  class_ids = run_data.class_ids(spec, args.label)
  if export:
    print(f"sampling with the run's export {export}")
    dist = run_dir_lib.ExportedSampler(export)
  else:
    dist, config = train_lib.load_distribution(args.run)
  samples, seconds = grid.sample_grid(
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
  zoom = args.zoom or grid.default_zoom(spec.image_shape)
  if args.compare:
    real = run_data.real_images(config, class_ids, args.n)
    image = grid.compare_grid(real, samples, spec.low, spec.high, zoom=zoom)
  else:
    image = grid.make_grid(
        grid.to_uint8(samples, spec.low, spec.high), zoom=zoom
    )
  grid.write_png(args.out, image)
  print(f"wrote {args.out}")
  if args.baseline:
    print_speedup(dist, spec, class_ids, args.n, args.seed, seconds)
  return 0


def _sample_shards(args):
  from tfp_fastpixel import shards
  from tfp_fastpixel import train as train_lib

  dist, config = train_lib.load_distribution(args.run)
  spec = run_data.spec(config)
  class_ids = run_data.class_ids(spec, args.label)
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


def print_speedup(dist, spec, class_ids, n, seed, first_seconds):
  """Times a second `dist.sample` and TFP's sampler on the same request,
  prints both, and returns TFP's time over FastPixelCNN's."""
  from tfp_fastpixel import grid

  _, warm = grid.sample_grid(dist, spec, class_ids, n, seed + 1)
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
