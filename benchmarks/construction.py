"""Building a model: FastPixelCNN against tfd.PixelCNN, same arguments.

Both build TFP's network. Keras builds it by calling each layer once on
symbolic inputs; TFP's WeightNorm traces its `tf.function` call there,
which FastPixelCNN skips (`network.untraced_build`) because its guarded
init replaces that call anyway. FastPixelCNN also enforces the masks and
installs the guard. Each model is built in turn by both classes, best of
`--repeats`, after one warm-up build of a small model in this process.

  python benchmarks/construction.py [--repeats 3] [--out FILE.md]
"""

import argparse
import sys
import time

from benchmark import CIFAR
from benchmark import QUICKDRAW
from benchmark import SMALL
from benchmark import report_header
import tensorflow_probability as tfp

from tfp_fastpixel import FastPixelCNN

MODELS = dict(small=SMALL, QuickDraw=QUICKDRAW, CIFAR=CIFAR)


def build_seconds(cls, config):
  start = time.perf_counter()
  cls(**config)
  return time.perf_counter() - start


def main(argv=None):
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawTextHelpFormatter
  )
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--out", help="also write the markdown here")
  args = parser.parse_args(argv)
  if args.repeats < 1:
    parser.error(f"--repeats: expected >= 1, got {args.repeats}")

  classes = dict(tfd=tfp.distributions.PixelCNN, fast=FastPixelCNN)
  for cls in classes.values():  # one-time costs of the first build
    build_seconds(cls, SMALL)
  lines = report_header(__file__, argv) + [
      "",
      "| model | tfd.PixelCNN (s) | FastPixelCNN (s) | faster |",
      "|---|---|---|---|",
  ]
  for name, config in MODELS.items():
    times = {key: [] for key in classes}
    for _ in range(args.repeats):  # interleaved: drift hits both alike
      for key, cls in classes.items():
        times[key].append(build_seconds(cls, config))
    tfd_s, fast_s = min(times["tfd"]), min(times["fast"])
    lines.append(
        f"| {name} | {tfd_s:.2f} | {fast_s:.2f} | {tfd_s / fast_s:.2f}x |"
    )
    print(lines[-1], flush=True)
  print("\n".join(lines))
  if args.out:
    with open(args.out, "w") as f:
      f.write("\n".join(lines) + "\n")
  return 0


if __name__ == "__main__":
  sys.exit(main())
