"""FastPixelCNN's sampler vs TFP's sampler vs one forward pass, same weights.

Every number in one table comes from one run, so the ratios are fair on any
machine. TFP's `sample()` runs the whole network once per pixel; it is run
in full when that is estimated to take under `--tfp_budget` seconds (best
of two calls where two fit, else its first call, marked so), and otherwise
estimated as (H*W + 1) forward passes (marked "est.").

  python benchmarks/benchmark.py --suite main      # QuickDraw + CIFAR configs
  python benchmarks/benchmark.py --suite scaling   # image side and batch
  python benchmarks/benchmark.py --suite all --out benchmarks/results.md
"""
import argparse
import json
import platform
import sys
import time

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_fastpixel import FastPixelCNN

tfd = tfp.distributions

QUICKDRAW = dict(image_shape=(28, 28, 1), conditional_shape=(), num_resnet=5,
                 num_hierarchies=3, num_filters=128, num_logistic_mix=5)
CIFAR = dict(image_shape=(32, 32, 3), num_resnet=5, num_hierarchies=3,
             num_filters=160, num_logistic_mix=10)
SMALL = dict(num_resnet=2, num_hierarchies=3, num_filters=32,
             num_logistic_mix=5)


def _timed(fn, repeats=1):
  """Best wall time of `repeats` calls (seconds) and the last result."""
  best, out = float('inf'), None
  for _ in range(repeats):
    start = time.perf_counter()
    out = fn()
    if isinstance(out, tf.Tensor):
      out.numpy()
    best = min(best, time.perf_counter() - start)
  return best, out


def measure(name, config, batch, tfp_budget, repeats=2):
  """One table row: times (s) and ratios for `config` at `batch`."""
  dist = FastPixelCNN(**config)
  h, w, c = config['image_shape']
  cond = (tf.zeros([batch] + list(config['conditional_shape']))
          if config.get('conditional_shape') is not None else None)
  images = tf.random.uniform([batch, h, w, c], -1., 1.)
  inputs = images if cond is None else [images, cond]
  forward = tf.function(lambda: dist.network(inputs, training=False))
  forward()  # trace, and weight norm's data-dependent init
  t_forward, _ = _timed(forward, repeats=3)

  kwargs = {} if cond is None else {'conditional_input': cond}
  t_first, _ = _timed(lambda: dist.sample(batch, seed=0, **kwargs))
  t_fast, _ = _timed(lambda: dist.sample(batch, seed=1, **kwargs), repeats)

  estimate = (h * w + 1) * t_forward
  if estimate < tfp_budget:
    tfp_sample = tf.function(
        lambda: tfd.PixelCNN._sample_n(dist, batch, seed=2, **kwargs))  # pylint: disable=protected-access
    # Its first call includes tracing; where there is time, take a second.
    twice = 2 * estimate < tfp_budget
    t_tfp, _ = _timed(tfp_sample, repeats=2 if twice else 1)
    tfp_note = '' if twice else ' (1st call)'
  else:
    t_tfp, tfp_note = estimate, ' est.'
  return dict(name=name, batch=batch, shape='x'.join(map(str, (h, w, c))),
              forward=t_forward, tfp=t_tfp, tfp_note=tfp_note, first=t_first,
              fast=t_fast, speedup=t_tfp / t_fast, vs_forward=t_fast / t_forward)


def row_markdown(r):
  return (f"| {r['name']} | {r['shape']} | {r['batch']} | {r['forward']:.3f} | "
          f"{r['tfp']:.1f}{r['tfp_note']} | {r['first']:.1f} | {r['fast']:.2f} | "
          f"**{r['speedup']:.0f}x** | {r['vs_forward']:.2f}x |")


HEADER = ('| model | image | batch | 1 forward (s) | TFP sample (s) | fast, 1st '
          'call incl. trace (s) | fast (s) | fast vs TFP | fast / forward |\n'
          '|---|---|---|---|---|---|---|---|---|')


def suites(name):
  main = [('QuickDraw post', QUICKDRAW, 8), ('PixelCNN++ CIFAR', CIFAR, 16)]
  scaling = ([(f'side {s}', dict(SMALL, image_shape=(s, s, 1)), 8)
              for s in (8, 16, 32, 64)] +
             [(f'batch {b}', dict(SMALL, image_shape=(16, 16, 1)), b)
              for b in (1, 4, 16, 64)])
  return {'main': main, 'scaling': scaling, 'all': main + scaling}[name]


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawTextHelpFormatter)
  parser.add_argument('--suite', default='main',
                      choices=['main', 'scaling', 'all'])
  parser.add_argument('--tfp_budget', type=float, default=120.,
                      help='run TFP sample() in full below this estimate (s)')
  parser.add_argument('--out', help='also write the markdown table here')
  parser.add_argument('--json', help='also write raw rows as JSON here')
  args = parser.parse_args(argv)

  device = ('GPU: ' + tf.config.list_physical_devices('GPU')[0].name
            if tf.config.list_physical_devices('GPU') else
            f'CPU ({platform.processor() or platform.machine()})')
  lines = [f'{time.strftime("%Y-%m-%d")}, TF {tf.__version__}, TFP '
           f'{tfp.__version__}, {device}', '', HEADER]
  print('\n'.join(lines), flush=True)
  rows = []
  for name, config, batch in suites(args.suite):
    r = measure(name, config, batch, args.tfp_budget)
    rows.append(r)
    lines.append(row_markdown(r))
    print(lines[-1], flush=True)
  if args.out:
    with open(args.out, 'w') as f:
      f.write('\n'.join(lines) + '\n')
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(rows, f, indent=1)
  return 0


if __name__ == '__main__':
  sys.exit(main())
