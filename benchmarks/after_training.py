"""After training: the export's start-up and sample_and_log_prob's overhead.

On the QuickDraw model (28x28x1, 5/3/128/mix 5, conditional), batch 8:

* start-up: seconds from a fresh process to the first batch of images,
  (a) live: build the FastPixelCNN, restore its weights, first `sample()`;
  (b) export: `tf.saved_model.load` (TensorFlow alone), first `sample()`;
  (c) the same in a later process, with XLA's persistent compilation cache
  (what `python -m tfp_fastpixel sample --run` sets for a run's export);
  each in its own process, on the same weights, and the images compared;
* `experimental_sample_and_log_prob` vs `sample` alone (steady, best of 3).

  python benchmarks/after_training.py [--batch 8] [--out FILE.md]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def _child(mode, work, batch):
  """Runs in a fresh process; prints one JSON line."""
  start = time.perf_counter()
  import numpy as np
  import tensorflow as tf

  imported = time.perf_counter()
  cond = tf.fill([batch], 3.0)
  if mode == "live":
    from benchmark import QUICKDRAW  # the script's folder is on sys.path

    from tfp_fastpixel import FastPixelCNN

    dist = FastPixelCNN(**QUICKDRAW)
    tf.train.Checkpoint(network=dist.network).read(
        os.path.join(work, "weights")
    ).expect_partial()
    ready = time.perf_counter()
    x = dist.sample(batch, seed=[1, 2], conditional_input=cond).numpy()
  else:
    for name in ("tensorflow_probability", "tf_keras", "tfp_fastpixel"):
      sys.modules[name] = None  # the export must not need them
    m = tf.saved_model.load(os.path.join(work, "export"))
    ready = time.perf_counter()
    x = m.sample(
        n=tf.constant(batch), seed=tf.constant([1, 2]), conditional_input=cond
    ).numpy()
  done = time.perf_counter()
  np.save(os.path.join(work, f"{mode}.npy"), x)
  print(
      json.dumps(
          dict(
              import_tf=imported - start,
              load=ready - imported,
              first_sample=done - ready,
              total=done - imported,
          )
      )
  )


def _run_child(mode, work, batch, xla_cache=None):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  if xla_cache:  # what `sample --run` sets for a run's export
    env["TF_XLA_FLAGS"] = f"--tf_xla_persistent_cache_directory={xla_cache}"
  out = subprocess.run(
      [
          sys.executable,
          __file__,
          "--child",
          mode,
          "--work",
          work,
          "--batch",
          str(batch),
      ],
      env=env,
      check=True,
      capture_output=True,
      text=True,
      timeout=1800,
  )
  return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawTextHelpFormatter
  )
  parser.add_argument("--batch", type=int, default=8)
  parser.add_argument("--out", help="also write the markdown here")
  parser.add_argument("--child", help=argparse.SUPPRESS)
  parser.add_argument("--work", help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.child:
    return _child(args.child, args.work, args.batch)

  from benchmark import QUICKDRAW  # the script's folder is on sys.path
  from benchmark import report_header
  from benchmark import timed
  import numpy as np
  import tensorflow as tf

  from tfp_fastpixel import FastPixelCNN
  from tfp_fastpixel import export_saved_model

  work = tempfile.mkdtemp(prefix="fastpixel_bench_")
  tf.keras.utils.set_random_seed(0)
  dist = FastPixelCNN(**QUICKDRAW)
  cond = tf.fill([args.batch], 3.0)
  dist.sample(args.batch, seed=0, conditional_input=cond)  # init + trace
  tf.train.Checkpoint(network=dist.network).write(os.path.join(work, "weights"))
  start = time.perf_counter()
  export_saved_model(dist, os.path.join(work, "export"), verbose=False)
  export_seconds = time.perf_counter() - start

  def sample():
    dist.sample(args.batch, seed=1, conditional_input=cond).numpy()

  def both():
    for t in dist.experimental_sample_and_log_prob(
        args.batch, seed=1, conditional_input=cond
    ):
      t.numpy()

  both()  # trace and compile the variant that returns the parameters
  times = {sample: [], both: []}
  for _ in range(3):  # interleaved, so that drift hits both alike
    for fn in times:
      times[fn].append(timed(fn))
  sample, both = min(times[sample]), min(times[both])

  live = _run_child("live", work, args.batch)
  exported = _run_child("export", work, args.batch)
  cache = os.path.join(work, "xla_cache")
  _run_child("export", work, args.batch, xla_cache=cache)  # fills the cache
  cached = _run_child("export", work, args.batch, xla_cache=cache)
  same = bool(
      np.array_equal(
          np.load(os.path.join(work, "live.npy")),
          np.load(os.path.join(work, "export.npy")),
      )
  )
  lines = report_header(
      __file__,
      argv,
      f", QuickDraw model, batch {args.batch}, "
      f'path {"XLA" if dist.uses_xla() else "graph"}',
  ) + [
      "",
      "| fresh process to first images | build or load (s) | first sample "
      "(s) | total (s) |",
      "|---|---|---|---|",
      f"| live FastPixelCNN (build, restore, trace, compile) | "
      f"{live['load']:.1f} | {live['first_sample']:.1f} | "
      f"{live['total']:.1f} |",
      f"| export (`tf.saved_model.load`, TensorFlow alone) | "
      f"{exported['load']:.1f} | {exported['first_sample']:.1f} | "
      f"{exported['total']:.1f} |",
      f"| export, next process (XLA's persistent cache, as `sample --run` "
      f"sets it) | {cached['load']:.1f} | {cached['first_sample']:.1f} | "
      f"{cached['total']:.1f} |",
      "",
      f"Same images for the same seed: {same}. Writing the export took "
      f"{export_seconds:.1f} s.",
      "",
      "| steady, best of 3 | seconds |",
      "|---|---|",
      f"| sample | {sample:.3f} |",
      f"| experimental_sample_and_log_prob | {both:.3f} "
      f"({100 * (both / sample - 1):+.1f}%) |",
  ]
  print("\n".join(lines))
  if args.out:
    with open(args.out, "w") as f:
      f.write("\n".join(lines) + "\n")
  return 0 if same else 1


if __name__ == "__main__":
  sys.exit(main())
