"""What one dependent small-batch dot costs under XLA on this machine.

The pixel loop of a big model is a chain of dots with M = batch rows, each
waiting for the one before (through an activation). This times such a
chain alone: `--dots` dots of [M, K] x [K, K] per step, each followed by an
elu, for 784 steps (a 28x28 image) in one compiled `tf.while_loop`, and
reports the time per dot and the arithmetic rate. It also runs the same
batch as two independent chains of M/2 in one loop body, which XLA's CPU
runtime may run on two cores.

    python benchmarks/dot_chain.py [--k 256] [--dots 20] [--out FILE]
"""

import argparse
import datetime
import platform
import time

import numpy as np
import tensorflow as tf

STEPS = 784


def chain_seconds(batch, chains, k, dots, repeats=3):
  """Best of `repeats` runs of the chain loop, in seconds."""
  rng = np.random.default_rng(0)
  weights = [
      tf.constant((rng.normal(size=(k, k)) / np.sqrt(k)).astype(np.float32))
      for _ in range(dots)
  ]
  xs = [
      tf.constant(rng.normal(size=(batch // chains, k)).astype(np.float32))
      for _ in range(chains)
  ]

  @tf.function(jit_compile=True, autograph=False)
  def run(xs, weights):
    def body(i, xs):
      out = []
      for x in xs:
        for w in weights:
          x = tf.nn.elu(tf.matmul(x, w))
        out.append(x)
      return i + 1, out

    return tf.while_loop(lambda i, _: i < STEPS, body, (0, xs))[1]

  run(xs, weights)  # compile
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    for x in run(xs, weights):
      x.numpy()
    best = min(best, time.perf_counter() - start)
  return best


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--k", type=int, default=256, help="K = N of each dot")
  parser.add_argument("--dots", type=int, default=20, help="dots per step")
  parser.add_argument("--out", help="also write the table to this file")
  args = parser.parse_args()
  cases = [
      (1, 1),
      (2, 1),
      (4, 1),
      (8, 1),
      (16, 1),
      (64, 1),
      (8, 2),
      (16, 2),
      (64, 2),
  ]
  lines = [
      f"{datetime.date.today()}, TF {tf.__version__}, CPU ({platform.machine()}"
      f"), XLA; {args.dots} chained [M, {args.k}] x [{args.k}, {args.k}] dots"
      f" (+ elu) per step, {STEPS} steps",
      "",
      "| M (batch) | chains | us per dot | GFLOP/s |",
      "|---|---|---|---|",
  ]
  print("\n".join(lines), flush=True)
  for batch, chains in cases:
    seconds = chain_seconds(batch, chains, args.k, args.dots)
    per_dot = seconds / STEPS / args.dots
    flops = 2 * batch * args.k * args.k
    line = (
        f"| {batch} | {chains} | {per_dot * 1e6:.1f} | "
        f"{flops / per_dot / 1e9:.1f} |"
    )
    lines.append(line)
    print(line, flush=True)
  if args.out:
    with open(args.out, "w") as f:
      f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
  main()
