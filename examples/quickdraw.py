"""Class-conditional PixelCNN on 20 QuickDraw classes, as in the post
"Easy PixelCNN with tfprobability": train on `log_prob` with Keras, then
`dist.sample(8, conditional_input=label)` per class, fast.

Runs as written on a machine where tfds can download `quickdraw_bitmap`
(about 32 GiB: tfds fetches all 345 class files):

    pip install -e .            # from the repository root
    python examples/quickdraw.py --out runs/quickdraw

Without network, tfds cannot download: prepare the data set on a machine that
has one and copy it over, then point this script at it:

    tfds build quickdraw_bitmap --data_dir DIR     # where there is network
    python examples/quickdraw.py --data_dir DIR --out runs/quickdraw

The model and data follow the post: the first 500,000 drawings
(`train[:500000]`), the post's 20 classes, scalar class labels as the
conditional input, float images in [0, 255]. Defaults are sized for a GPU;
on a CPU pass e.g. `--take 20000 --epochs 1 --num_filters 32`.
"""

import argparse
import os
import sys
import time

import numpy as np

from tfp_fastpixel import data
from tfp_fastpixel import grid
from tfp_fastpixel import train


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--data_dir", default=None, help="tfds data dir")
  p.add_argument("--out", default="runs/quickdraw", help="run directory")
  p.add_argument("--take", type=int, default=500_000)
  p.add_argument("--epochs", type=int, default=10)
  p.add_argument("--batch_size", type=int, default=32)
  p.add_argument("--num_filters", type=int, default=128)
  p.add_argument("--seed", type=int, default=0)
  args = p.parse_args(argv)

  # The data: the post's 20 classes out of the first `take` drawings, with
  # the class id (a float scalar) as the conditional input. QuickDraw has
  # only a train split; `data` holds out its last 2% as `test`.
  data_config = dict(
      name="quickdraw",
      classes="post",
      take=args.take,
      labels="scalar",
      data_dir=args.data_dir,
      heldout_fraction=0.02,
  )

  # The model: the post's FastPixelCNN (tfd.PixelCNN's arguments); the
  # image shape, pixel range and conditional shape come from the data.
  model = dict(
      num_resnet=5,
      num_hierarchies=2,
      num_filters=args.num_filters,
      num_logistic_mix=5,
      dropout_p=0.5,
  )

  # Training: Keras `fit` on `-log_prob`, a checkpoint after every epoch in
  # `args.out` (run it again to resume).
  try:
    result = train.train(
        args.out,
        data_config,
        model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
    )
  except RuntimeError as e:  # No network and no prepared data_dir.
    sys.exit(f"{e}\n\nSee the top of examples/quickdraw.py.")
  dist = result.dist

  # Held-out bits/dim, the PixelCNN++ scale.
  test = data.load(
      "quickdraw",
      "test",
      batch_size=256,
      shuffle=False,
      **{k: v for k, v in data_config.items() if k != "name"},
  )
  print(f"held-out bits/dim: {train.evaluate_bits_per_dim(dist, test):.3f}")

  # Per class: 8 real drawings (top row) over 8 samples (bottom row).
  spec = data.describe("quickdraw", classes="post", data_dir=args.data_dir)
  real_by_class = {c: [] for c in spec.classes}
  for ((images, labels),) in test.as_numpy_iterator():
    for image, label in zip(images, labels.astype(int)):
      if len(real_by_class[label]) < 8:
        real_by_class[label].append(image)
  os.makedirs(os.path.join(args.out, "samples"), exist_ok=True)
  for label in spec.classes:
    start = time.time()
    samples = dist.sample(8, conditional_input=float(label), seed=label)
    print(
        f"{spec.class_names[label]:>16}: 8 samples in "
        f"{time.time() - start:.2f} s"
    )
    real = np.array(real_by_class[label] or np.zeros_like(samples))
    real = np.concatenate([real, np.zeros_like(samples)])[:8]
    path = os.path.join(
        args.out, "samples", spec.class_names[label].replace(" ", "_") + ".png"
    )
    grid.write_png(path, grid.compare_grid(real, samples, zoom=2))
  print(f"wrote {len(spec.classes)} PNGs to {args.out}/samples")


if __name__ == "__main__":
  main()
