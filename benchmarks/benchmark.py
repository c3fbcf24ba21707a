"""FastPixelCNN's sampler, graph and XLA, vs TFP's sampler and one forward
pass, on the same weights.

Every number in one table comes from one run, so the ratios are fair on any
machine. For each row and each path (graph mode, XLA):

* ops/px: ops dispatched per generated pixel (see `op_counts.py`): graph
  ops for the graph path; for XLA, kernels (fusions, dots, convolutions,
  custom calls) in the optimised HLO, with every working instruction in
  brackets, and the kernels of the layout a GPU gets (packed caches, one
  dot per carried convolution; the CPU's layout splits those dots);
* trace+compile: the first call minus a steady call (Python tracing, graph
  optimisation, XLA compilation);
* steady: the best of two later calls (new seeds, same batch size), and its
  ratio to one forward pass.

TFP's `sample()` runs the whole network once per pixel; it is run in full
when that is estimated to take under `--tfp_budget` seconds and otherwise
estimated as (H*W + 1) forward passes ("est."). "auto" is the path
`jit_compile=None` picks for that model on this machine.

With `--cached_first_call`, a second table gives XLA's trace+compile in a
new process, cold and then with XLA's persistent compilation cache filled
by the cold one (what `sample --run` sets up): the cost of a model's first
call in every later script or R session.

  python benchmarks/benchmark.py                  # the four models
  python benchmarks/benchmark.py --cached_first_call \
      --out benchmarks/results_cpu.md --json benchmarks/results_cpu.json
  python benchmarks/benchmark.py --suite scaling   # image side and batch
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import tensorflow as tf
import tensorflow_probability as tfp

from tfp_fastpixel import FastPixelCNN
from tfp_fastpixel import _execution
from tfp_fastpixel import from_pixelcnn
from tfp_fastpixel import op_counts

tfd = tfp.distributions

QUICKDRAW = dict(
    image_shape=(28, 28, 1),
    conditional_shape=(),
    num_resnet=5,
    num_hierarchies=3,
    num_filters=128,
    num_logistic_mix=5,
)
CIFAR = dict(
    image_shape=(32, 32, 3),
    num_resnet=5,
    num_hierarchies=3,
    num_filters=160,
    num_logistic_mix=10,
)
SMALL = dict(
    image_shape=(16, 16, 1),
    num_resnet=2,
    num_hierarchies=2,
    num_filters=32,
    num_logistic_mix=3,
)
SCALING = dict(
    num_resnet=2, num_hierarchies=3, num_filters=32, num_logistic_mix=5
)


def device_name():
  """The first GPU TensorFlow sees, else the CPU and its cores."""
  gpus = tf.config.list_physical_devices("GPU")
  if gpus:
    return "GPU: " + gpus[0].name
  return (
      f"CPU ({platform.processor() or platform.machine()}, "
      f"{os.cpu_count()} cores)"
  )


def report_header(script, argv, details=""):
  """A report's first two lines: date, versions, device (and `details`);
  then the command that made it."""
  return [
      f'{time.strftime("%Y-%m-%d")}, TF {tf.__version__}, TFP '
      f"{tfp.__version__}, {device_name()}{details}",
      "Command: `python "
      + " ".join([os.path.relpath(script)] + (argv or sys.argv[1:]))
      + "`",
  ]


def timed(fn, repeats=1):
  """Best wall time of `repeats` calls (seconds)."""
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    out = fn()
    if isinstance(out, tf.Tensor):
      out.numpy()
    best = min(best, time.perf_counter() - start)
  return best


def _path(dist, batch, kwargs, xla, h, w, count_ops):
  """trace+compile, steady and ops/px of one program of `dist`'s sampler."""
  dist = from_pixelcnn(dist, jit_compile=xla)  # the automatic program
  first = timed(lambda: dist.sample(batch, seed=0, **kwargs))
  steady = timed(lambda: dist.sample(batch, seed=1, **kwargs), repeats=2)
  out = dict(compile=max(first - steady, 0.0), steady=steady)
  if not count_ops:
    return out
  cond = kwargs.get("conditional_input")
  if xla:
    core, args = _execution.core_program(dist, batch, 0, cond)
    hlo = core.experimental_get_compiler_ir(*args)(stage="optimized_hlo")
    out["ops"], out["work"] = op_counts.xla_ops_per_pixel(hlo, h, w)
    # The accelerator program, compiled here by the CPU's XLA.
    gpu = _execution.with_program(dist, "xla_accelerator")
    core, args = _execution.core_program(gpu, batch, 0, cond)
    hlo = core.experimental_get_compiler_ir(*args)(stage="optimized_hlo")
    out["gpu_ops"] = op_counts.xla_ops_per_pixel(hlo, h, w)[0]
  else:
    fn = _execution.traced_generator(dist, xla=False)
    out["ops"] = op_counts.graph_ops_per_pixel(fn, h, w)
  return out


def pixel_weight_bytes(dist):
  """Bytes of weights the pixel loop reads per generated pixel.

  Level k's horizontal stack runs at a quarter of level k-1's pixels, so
  its weights count 4^-k. At small batches the pixel loop's matmuls are
  bound by reading these weights, which makes their sum the floor.
  """
  gen = dist._generator
  cond = (
      None
      if dist.conditional_shape is None
      else tf.zeros([1, dist.conditional_shape.num_elements()], dist.dtype)
  )
  weights = gen.read_weights(cond)
  total = 0.0
  for k, convs in gen.terms.items():
    level = sum(
        int(tf.size(m))
        for c in convs
        for m in weights[c.name]["current"][:1]
        if m is not None
    )
    level += sum(
        int(tf.size(weights[b.h_skip.name]["h_half"])) for b in gen.up[k]
    )
    total += level / 4**k
  total += int(tf.size(weights[gen.head.name]["kernel"]))
  return total * dist.dtype.size


def bandwidth():
  """Bytes per second of one streaming read of a 256 MiB tensor."""
  x = tf.ones([64 * 1024 * 1024])
  read = tf.function(tf.reduce_sum)
  read(x)
  return x.shape[0] * 4 / timed(lambda: read(x), repeats=3)


def _model(config, batch):
  """(dist, conditional input or None): seeded, so every process that
  builds a row's model gets the same weights."""
  tf.keras.utils.set_random_seed(0)
  dist = FastPixelCNN(**config)
  cond = (
      tf.zeros([batch] + list(config["conditional_shape"]))
      if config.get("conditional_shape") is not None
      else None
  )
  return dist, cond


def measure(name, config, batch, tfp_budget, count_ops=True):
  """One table row: both paths, TFP's sampler and one forward pass."""
  dist, cond = _model(config, batch)
  h, w, c = config["image_shape"]
  images = tf.random.uniform([batch, h, w, c], -1.0, 1.0)
  inputs = images if cond is None else [images, cond]
  forward = tf.function(lambda: dist.network(inputs, training=False))
  forward()  # trace, and weight norm's data-dependent init
  t_forward = timed(forward, repeats=3)

  kwargs = {} if cond is None else {"conditional_input": cond}
  graph = _path(dist, batch, kwargs, False, h, w, count_ops)
  xla = _path(dist, batch, kwargs, True, h, w, count_ops)
  auto = "XLA" if dist.uses_xla() else "graph"

  estimate = (h * w + 1) * t_forward
  if estimate < tfp_budget:
    tfp_sample = tf.function(
        lambda: tfd.PixelCNN._sample_n(dist, batch, seed=2, **kwargs)
    )
    t_tfp = timed(tfp_sample, repeats=2 if 2 * estimate < tfp_budget else 1)
    tfp_note = ""
  else:
    t_tfp, tfp_note = estimate, " est."
  best = (xla if auto == "XLA" else graph)["steady"]
  return dict(
      name=name,
      batch=batch,
      shape="x".join(map(str, (h, w, c))),
      forward=t_forward,
      tfp=t_tfp,
      tfp_note=tfp_note,
      graph=graph,
      xla=xla,
      auto=auto,
      speedup=t_tfp / best,
      weight_bytes=pixel_weight_bytes(dist),
      pixels=h * w,
  )


def first_call_child(name, batch):
  """Child process: XLA trace+compile and steady of one suite row (JSON)."""
  config = next(c for n, c, b in suites("all") if n == name and b == batch)
  dist, cond = _model(config, batch)
  # Weight norm's data-dependent init first, as in `measure`.
  _execution.prepare(dist, batch, cond)
  kwargs = {} if cond is None else {"conditional_input": cond}
  h, w, _ = config["image_shape"]
  print(json.dumps(_path(dist, batch, kwargs, True, h, w, False)))


def cached_first_call(name, batch):
  """XLA trace+compile in a new process: (cold, with a warm XLA cache)."""
  with tempfile.TemporaryDirectory() as cache:
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        TF_XLA_FLAGS=f"--tf_xla_persistent_cache_directory={cache}",
    )
    out = []
    for _ in range(2):
      run = subprocess.run(
          [sys.executable, __file__, "--first_call", name, str(batch)],
          env=env,
          capture_output=True,
          text=True,
          timeout=1200,
          check=True,
      )
      out.append(json.loads(run.stdout.strip().splitlines()[-1]))
    return out


def _ops(p):
  if "ops" not in p:
    return "-"
  return (
      f"{p['ops']:.0f}"
      if "work" not in p
      else f"{p['ops']:.0f} ({p['work']:.0f})"
  )


def row_markdown(r):
  g, x, f = r["graph"], r["xla"], r["forward"]
  return (
      f"| {r['name']} | {r['shape']} | {r['batch']} | {f:.3f} | "
      f"{r['tfp']:.1f}{r['tfp_note']} | "
      f"{_ops(g)} | {g['compile']:.1f} | {g['steady']:.3f} | "
      f"{g['steady'] / f:.2f}x | "
      f"{_ops(x)} | {x.get('gpu_ops', float('nan')):.0f} | "
      f"{x['compile']:.1f} | {x['steady']:.3f} | "
      f"{x['steady'] / f:.2f}x | {r['auto']} | **{r['speedup']:.0f}x** |"
  )


HEADER = (
    "| model | image | batch | 1 forward (s) | TFP sample (s) | "
    "graph ops/px | graph trace+compile (s) | graph steady (s) | "
    "graph / forward | XLA ops/px (all) | XLA ops/px, GPU layout | "
    "XLA trace+compile (s) | XLA steady (s) | XLA / forward | auto | "
    "auto vs TFP |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def suites(name):
  models = [
      ("small", SMALL, 8),
      ("QuickDraw post", QUICKDRAW, 8),
      ("QuickDraw post", QUICKDRAW, 64),
      ("PixelCNN++ CIFAR", CIFAR, 16),
  ]
  scaling = [
      (f"side {s}", dict(SCALING, image_shape=(s, s, 1)), 8)
      for s in (8, 32, 64)
  ] + [
      (f"batch {b}", dict(SCALING, image_shape=(16, 16, 1)), b) for b in (1, 64)
  ]
  return {"models": models, "scaling": scaling, "all": models + scaling}[name]


def main(argv=None):
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawTextHelpFormatter
  )
  parser.add_argument(
      "--suite", default="models", choices=["models", "scaling", "all"]
  )
  parser.add_argument("--only", help="run only rows whose name contains this")
  parser.add_argument(
      "--tfp_budget",
      type=float,
      default=120.0,
      help="run TFP sample() in full below this estimate (s)",
  )
  parser.add_argument(
      "--no_ops",
      action="store_true",
      help="skip the ops/px columns (they recompile)",
  )
  parser.add_argument(
      "--cached_first_call",
      action="store_true",
      help="also measure XLA's first call in new processes, cold and with "
      "the persistent compilation cache warm",
  )
  parser.add_argument(
      "--first_call", nargs=2, metavar=("NAME", "BATCH"), help=argparse.SUPPRESS
  )
  parser.add_argument("--out", help="also write the markdown table here")
  parser.add_argument("--json", help="also write raw rows as JSON here")
  args = parser.parse_args(argv)
  if args.first_call:
    first_call_child(args.first_call[0], int(args.first_call[1]))
    return 0

  device = device_name()
  meta = dict(
      date=time.strftime("%Y-%m-%d"),
      tensorflow=tf.__version__,
      tfp=tfp.__version__,
      device=device,
      command="python " + " ".join([os.path.relpath(__file__)] + sys.argv[1:]),
  )
  lines = [
      f"{meta['date']}, TF {meta['tensorflow']}, TFP {meta['tfp']}, {device}",
      f"Command: `{meta['command']}`",
      "",
      HEADER,
  ]
  print("\n".join(lines), flush=True)
  rows = []
  for name, config, batch in suites(args.suite):
    if args.only and args.only not in name:
      continue
    r = measure(name, config, batch, args.tfp_budget, not args.no_ops)
    rows.append(r)
    lines.append(row_markdown(r))
    print(lines[-1], flush=True)
  rate = bandwidth()
  lines += [
      "",
      f"Memory bandwidth (one streaming read): {rate / 1e9:.1f} GB/s.",
      "Weight floor: the pixel loop reading its weights once per pixel.",
      "",
      "| model | batch | pixel-loop weights per pixel (MB) | "
      "weight floor (s) | XLA steady (s) |",
      "|---|---|---|---|---|",
  ]
  for r in rows:
    floor = r["weight_bytes"] * r["pixels"] / rate
    lines.append(
        f"| {r['name']} | {r['batch']} | "
        f"{r['weight_bytes'] / 1e6:.1f} | {floor:.2f} | "
        f"{r['xla']['steady']:.2f} |"
    )
  print("\n".join(lines[-len(rows) - 6 :]), flush=True)
  if args.cached_first_call:
    lines += [
        "",
        "XLA's first call in a new process (trace+compile, s): cold, and "
        "with the persistent compilation cache that the cold run filled.",
        "",
        "| model | batch | cold | warm cache | warm: steady (s) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
      cold, warm = cached_first_call(r["name"], r["batch"])
      r["first_call_new_process"] = dict(cold=cold, warm_cache=warm)
      lines.append(
          f"| {r['name']} | {r['batch']} | {cold['compile']:.1f} | "
          f"{warm['compile']:.1f} | {warm['steady']:.3f} |"
      )
      print(lines[-1], flush=True)
  if args.out:
    with open(args.out, "w") as f:
      f.write("\n".join(lines) + "\n")
  if args.json:
    with open(args.json, "w") as f:
      json.dump(dict(meta, bandwidth=rate, rows=rows), f, indent=1)
  return 0


if __name__ == "__main__":
  sys.exit(main())
