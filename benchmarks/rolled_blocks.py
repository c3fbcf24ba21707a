"""XLA on a CPU: what a rolled resnet loop would save in compile time and
cost in speed.

The compiled generator unrolls each level's resnet blocks in Python, so XLA
compiles every block's kernels separately: most of the ~10 s that XLA's
CPU compiler takes on the QuickDraw model. Rolling the blocks into an inner
`tf.while_loop` over stacked weights would compile one block per level.
This measures that trade-off on a stand-in for a pixel loop: `--blocks`
gated blocks (the sampler's activation and gate: concat_elu, [B, 2K] x
[2K, K] dot, concat_elu, [B, 2K] x [2K, 2K] dot, gate, residual) per
step, 784 steps, K = 128 (the QuickDraw model's filters), unrolled
against rolled (each block's weights read with a dynamic index, which
XLA's CPU backend copies out before its dot).

    python benchmarks/rolled_blocks.py [--blocks 30] [--out FILE]
"""

import argparse
import datetime
import platform

from benchmark import timed
import numpy as np
import tensorflow as tf

from tfp_fastpixel import network
from tfp_fastpixel import sampler

STEPS = 784
K = 128
_ACT = network.activation_fn("concat_elu")


def _block(x, w1, w2):
  y = tf.matmul(_ACT(x), w1)
  return x + sampler._gate(tf.matmul(_ACT(y), w2))


def measure(batch, blocks, rolled, repeats=3):
  """(first call, steady call) in seconds; the first compiles."""
  rng = np.random.default_rng(0)
  # Weights small enough that 784 steps of residual blocks stay finite
  # (overflow to inf and NaN would time other arithmetic).
  scale = 1 / (2 * K)
  w1 = tf.constant((rng.normal(size=(blocks, 2 * K, K)) * scale).astype("f4"))
  w2 = tf.constant(
      (rng.normal(size=(blocks, 2 * K, 2 * K)) * scale).astype("f4")
  )
  x0 = tf.constant(rng.normal(size=(batch, K)).astype("f4"))

  @tf.function(jit_compile=True, autograph=False)
  def run(x, w1, w2):
    if rolled:

      def body(i, x):
        def inner(j, x):
          return j + 1, _block(x, tf.gather(w1, j), tf.gather(w2, j))

        return i + 1, tf.while_loop(lambda j, _: j < blocks, inner, (0, x))[1]

    else:
      pairs = list(zip(tf.unstack(w1), tf.unstack(w2)))

      def body(i, x):
        for a, b in pairs:
          x = _block(x, a, b)
        return i + 1, x

    return tf.while_loop(lambda i, _: i < STEPS, body, (0, x))[1]

  first = timed(lambda: run(x0, w1, w2))
  if not np.isfinite(run(x0, w1, w2).numpy()).all():
    raise FloatingPointError("the chain overflowed; its timing would mislead")
  return first, timed(lambda: run(x0, w1, w2), repeats)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--blocks", type=int, default=30, help="blocks per step")
  parser.add_argument("--out", help="also write the table to this file")
  args = parser.parse_args()
  lines = [
      f"{datetime.date.today()}, TF {tf.__version__}, "
      f"{platform.machine()}, {args.blocks} blocks per step, {STEPS} steps,"
      f" K={K}",
      "",
      "| batch | unrolled: first call (s) | unrolled: steady (s) "
      "| rolled: first call (s) | rolled: steady (s) "
      "| rolled / unrolled steady |",
      "|---|---|---|---|---|---|",
  ]
  for batch in (8, 64):
    f_u, s_u = measure(batch, args.blocks, rolled=False)
    f_r, s_r = measure(batch, args.blocks, rolled=True)
    lines.append(
        f"| {batch} | {f_u:.2f} | {s_u:.3f} | {f_r:.2f} | {s_r:.3f} "
        f"| {s_r / s_u:.2f}x |"
    )
    print(lines[-1], flush=True)
  text = "\n".join(lines) + "\n"
  print(text)
  if args.out:
    with open(args.out, "w") as f:
      f.write(text)


if __name__ == "__main__":
  main()
