"""`demo`: the offline end-to-end job on `digits`.

Trains a small conditional model, prints held-out bits/dim, writes
real-vs-generated PNGs per class, and measures FastPixelCNN's sampling
speed against TFP's; a few minutes on a CPU.
"""

import json
import os
import time

from tfp_fastpixel.cli import flags
from tfp_fastpixel.cli import run_data
from tfp_fastpixel.cli import sample
from tfp_fastpixel.cli import train


def add_parser(sub):
  p = sub.add_parser("demo", help="offline end-to-end job on digits")
  p.add_argument("--out", default="runs/digits", help="run directory")
  p.add_argument("--labels", default="onehot", choices=["scalar", "onehot"])
  p.add_argument("--n", type=int, default=8, help="samples per class")
  # Held-out bits/dim on digits bottoms out after ~15-20 epochs of this model
  # (1,617 training images); the time budget keeps slow machines near 3 min.
  flags.add_model_flags(p, dict(num_resnet=2))
  flags.add_train_flags(p, epochs=20)
  p.set_defaults(time_budget=180.0, batch_size=32, learning_rate=2e-3)


def run(args):
  from tfp_fastpixel import grid
  from tfp_fastpixel import train as train_lib

  start = time.time()
  args.dataset = "digits"
  data_config = dict(name="digits", labels=args.labels)
  result = train.run_training(args, data_config)
  bpd = run_data.bits_per_dim(result.dist, args.out)
  print(f"held-out bits/dim: {bpd:.4f}")

  config = train_lib.read_config(args.out)
  spec = run_data.spec(config)
  class_ids = list(spec.classes)
  samples, seconds = grid.sample_grid(
      result.dist, spec, class_ids, args.n, args.seed
  )
  real = run_data.real_images(config, class_ids, args.n)
  zoom = grid.default_zoom(spec.image_shape)
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
  speedup = sample.print_speedup(
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
