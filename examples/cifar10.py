"""Unconditional PixelCNN on CIFAR-10: Keras `log_prob` training, held-out
bits/dim on the PixelCNN++ scale (the paper reports 2.92 with a far larger
model), then a grid of fast samples.

Runs as written on a machine where tfds can download `cifar10` (163 MiB):

    pip install -e .            # from the repository root
    python examples/cifar10.py --out runs/cifar10

Without network, tfds cannot download: prepare the data set on a machine that
has one (`tfds build cifar10 --data_dir DIR`), copy DIR over, then:

    python examples/cifar10.py --data_dir DIR --out runs/cifar10

Defaults are sized for one GPU; on a CPU pass e.g. `--take 5000 --epochs 1
--num_filters 32`. With several GPUs add `--distribute` (MirroredStrategy;
`--batch_size` is the global batch).
"""

import argparse
import os
import sys
import time

import tensorflow as tf

from tfp_fastpixel import data
from tfp_fastpixel import grid
from tfp_fastpixel import train


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--data_dir", default=None, help="tfds data dir")
  p.add_argument("--out", default="runs/cifar10", help="run directory")
  p.add_argument(
      "--take",
      type=int,
      default=None,
      help="first N training images (default: all 50,000)",
  )
  p.add_argument("--epochs", type=int, default=30)
  p.add_argument("--batch_size", type=int, default=64)
  p.add_argument("--num_filters", type=int, default=96)
  p.add_argument("--seed", type=int, default=0)
  p.add_argument(
      "--distribute",
      action="store_true",
      help="train on every GPU of this machine (MirroredStrategy)",
  )
  p.add_argument("--n", type=int, default=16, help="samples to draw")
  args = p.parse_args(argv)

  # The data: CIFAR-10's 32x32x3 images in [0, 255], without labels (an
  # unconditional model).
  data_config = dict(
      name="cifar10", labels=None, take=args.take, data_dir=args.data_dir
  )

  # The model: a FastPixelCNN (tfd.PixelCNN's arguments), smaller than the
  # paper's; the image shape and pixel range come from the data.
  model = dict(
      num_resnet=5,
      num_hierarchies=3,
      num_filters=args.num_filters,
      num_logistic_mix=10,
      dropout_p=0.5,
  )

  # Training: Keras `fit` on `-log_prob`, a checkpoint after every epoch in
  # `args.out` (run it again to resume).
  strategy = tf.distribute.MirroredStrategy() if args.distribute else None
  try:
    result = train.train(
        args.out,
        data_config,
        model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        strategy=strategy,
    )
  except RuntimeError as e:  # No network and no prepared data_dir.
    sys.exit(f"{e}\n\nSee the top of examples/cifar10.py.")
  dist = result.dist

  # Bits/dim on the 10,000 test images.
  test = data.load(
      "cifar10", "test", batch_size=256, labels=None, data_dir=args.data_dir
  )
  print(f"test bits/dim: {train.evaluate_bits_per_dim(dist, test):.3f}")

  # Sampling: one call, every pixel drawn by the cached generator.
  start = time.time()
  samples = dist.sample(args.n, seed=0)
  print(f"{args.n} samples in {time.time() - start:.1f} s")
  path = grid.write_png(
      os.path.join(args.out, "samples.png"),
      grid.make_grid(grid.to_uint8(samples), zoom=2),
  )
  print(f"wrote {path}")


if __name__ == "__main__":
  main()
