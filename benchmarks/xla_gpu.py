"""FastPixelCNN's XLA programs on an accelerator that has no TensorFlow.

The XLA path hands XLA one HLO program per call (the compiled core). This
script exports that very program, with its arguments, and runs it with the
XLA that ships in JAX on whatever device JAX finds, so a machine with an
accelerator needs JAX but no TensorFlow. This is how the GPU table in
docs/performance.md is made. Three steps:

  # 1. here, with TensorFlow: programs and arguments, CPU reference outputs
  python benchmarks/xla_gpu.py export --dir /tmp/xla_gpu
  # 2. on the GPU machine, with JAX only (no TensorFlow, no tfp_fastpixel)
  python benchmarks/xla_gpu.py run --dir /tmp/xla_gpu --out results
  # 3. here again: the table and the exactness checks
  python benchmarks/xla_gpu.py report --dir /tmp/xla_gpu --results results \
      --out benchmarks/results_gpu.md

Per row (the `models` suite of `benchmark.py`, same seeded weights), three
programs are exported and timed on the same device:

* `sampler`: the compiled core that `sample()` runs under XLA (the noise
  and the prepared weights are its arguments, as in the live path);
* `forward`: one pass of the network, compiled by XLA;
* `tfp`: TFP's `sample()`, compiled by XLA (the whole network per pixel);
  timed only, on values of its parameters' types and shapes (the order of
  the constants it captures among XLA's parameters is not TF's).

So "sampler / forward" and "vs TFP" compare programs compiled by one
compiler on one device. Kernels per pixel are counted in the optimised HLO
XLA made for that device (`op_counts.xla_ops_per_pixel`).

Exactness on the device, checked in `report` against TensorFlow here:

* teacher forcing: the small model's core with `return_params=True`; the
  parameters the device used at every pixel vs one network pass, run here
  on the device's samples;
* enumeration: the 2x2 two-level model of `tests/test_exactness.py`,
  trained here, 20,000 draws per label on the device, chi-square against
  `log_prob` over all 256 images;
* agreement: the fraction of pixels the device draws equal to the CPU's,
  for the same program, arguments and noise, and the forward pass's
  largest difference (which also checks the parameter order).

The big models' rows run on synthetic weights (see `_save_program`); the
small model's and the enumeration model's on their real ones.
"""

import argparse
import functools
import gzip
import hashlib
import importlib.util
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODELS = os.path.join("tests", "data", "make_models.py")
ROWS = (  # (directory, benchmark row name, batch)
    ("small_b8", "small", 8),
    ("quickdraw_b8", "QuickDraw post", 8),
    ("quickdraw_b64", "QuickDraw post", 64),
    ("cifar_b16", "PixelCNN++ CIFAR", 16),
)
ENUM_DIR = "enumeration"
ENUM_CONFIG = "exact_gray_2x2_high3_hier2"  # tests/data/make_models.py
ENUM_SAMPLES = 20_000  # per label, as tests/test_exactness.py
_SYNTH_BYTES = 1 << 16


def _row_dirs(root):
  """The exported rows under `root`: ROWS' order, then other batch sizes
  (`export --batch`), by model and batch."""
  known = [d for d, _, _ in ROWS]
  extra = []
  for d in os.listdir(root):
    path = os.path.join(root, d, "meta.json")
    if d not in known + [ENUM_DIR] and os.path.exists(path):
      with open(path) as f:
        meta = json.load(f)
      extra.append((meta["name"], meta["batch"], d))
  return known + [d for _, _, d in sorted(extra)]


@functools.lru_cache(maxsize=None)
def _load(name, path):
  """A module from a file, without importing its package (once)."""
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


# -- export (TensorFlow) ---------------------------------------------------


def _save_program(out_dir, name, fn, args, variables, exact, store, highest):
  """`fn(*args)`'s HLO module (gzipped proto), the list of its arguments,
  and its outputs here (`<name>_cpu.npz`) when `exact`.

  XLA's entry parameters are the flat arguments, then `fn`'s captured
  inputs (`_captured_values`, among `variables`; None: timing only, on
  values of the parameters' types). Argument values go into `store` (by
  content, so programs of one model share their weights). Unless `exact`,
  arguments over `_SYNTH_BYTES` are kept as shape, dtype, mean and spread
  only, and `run` draws values like them: the big models' weights would
  not travel (tens of MB), and a program whose loops have fixed trip
  counts takes the same time on any values.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  hlo = fn.experimental_get_compiler_ir(*args)(stage="hlo_serialized")
  module, types = _rewrite(hlo, highest)
  with gzip.open(os.path.join(out_dir, name + ".pb.gz"), "wb") as f:
    f.write(module)
  params = []
  if variables is None:  # timing only: values of the parameters' types
    for dtype, shape in types:
      params.append(dict(shape=shape, dtype=dtype, mean=0.0, std=0.05))
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
      json.dump(params, f)
    return
  flat = [t for t in tf.nest.flatten(args) if isinstance(t, tf.Tensor)]
  flat = [np.asarray(t) for t in flat]
  flat += _captured_values(fn, args, flat, variables, types)
  for a in flat:
    if exact or a.nbytes <= _SYNTH_BYTES:
      key = "h" + hashlib.sha1(a.tobytes() + str(a.dtype).encode()).hexdigest()
      store[key] = a
      params.append(key)
    else:
      params.append(
          dict(
              shape=a.shape,
              dtype=a.dtype.name,
              mean=float(a.mean()),
              std=float(a.std()),
          )
      )
  with open(os.path.join(out_dir, name + ".json"), "w") as f:
    json.dump(params, f)
  if exact:
    out = tf.nest.flatten(fn(*args))
    np.savez(
        os.path.join(out_dir, name + "_cpu.npz"),
        **{f"o{i}": np.asarray(t) for i, t in enumerate(out)},
    )


_HLO_TYPES = dict(pred="bool", s32="int32", s64="int64", u32="uint32")
_HLO_TYPES.update(f16="float16", f32="float32", f64="float64")


def _rewrite(serialized, highest=False):
  """The HLO module with each `copy` made a same-shape `reshape`, and with
  `highest`, every dot and convolution at full float32 precision; and the
  (dtype, shape) of each of its entry parameters.

  A copy and a same-shape reshape both pass the value through. TF returns
  updated variables (weight norm writes its kernels) through copies, which
  JAX's GPU compiler refuses to legalise from StableHLO; the reshape it
  accepts, and XLA removes it. On a GPU, XLA runs float32 products at
  DEFAULT precision in TensorFloat-32, as TF does by default: fine for
  speed, but teacher forcing then measures TF32's rounding (about 1e-3),
  not the caches.
  """
  try:
    from tensorflow.compiler.xla import xla_data_pb2  # pylint: disable=g-import-not-at-top
    from tensorflow.compiler.xla.service import hlo_pb2  # pylint: disable=g-import-not-at-top
  except ImportError:
    from local_xla.xla import xla_data_pb2  # pylint: disable=g-import-not-at-top
    from local_xla.xla.service import hlo_pb2  # pylint: disable=g-import-not-at-top

  module = hlo_pb2.HloModuleProto.FromString(serialized)
  full = xla_data_pb2.PrecisionConfig.HIGHEST
  for computation in module.computations:
    for instruction in computation.instructions:
      if instruction.opcode == "copy":
        instruction.opcode = "reshape"
      elif highest and instruction.opcode in ("dot", "convolution"):
        del instruction.precision_config.operand_precision[:]
        instruction.precision_config.operand_precision.extend([full, full])
  name = xla_data_pb2.PrimitiveType.Name
  types = [
      (_HLO_TYPES[name(p.element_type).lower()], tuple(p.dimensions))
      for p in module.host_program_shape.parameters
  ]
  return module.SerializeToString(), types


def _captured_values(fn, args, flat, variables, params):
  """Values of what `fn` captures that its HLO takes as parameters.

  `flat`: the tensor arguments' values, which XLA's parameters start with.

  XLA takes the flat arguments, then the captured variables in order, then
  those captured constants it did not fold into the program, in order
  (matched here by dtype and shape).
  """
  by_handle = {id(v.handle): v for v in variables}
  captured = fn.get_concrete_function(*args).captured_inputs
  values = [
      np.asarray(by_handle[id(t)].read_value())
      for t in captured
      if t.dtype.name == "resource"
  ]
  constants = [np.asarray(t) for t in captured if t.dtype.name != "resource"]
  for dtype, shape in params[len(flat) + len(values) :]:
    match = [
        i
        for i, c in enumerate(constants)
        if c.dtype.name == dtype and c.shape == shape
    ]
    values.append(constants.pop(match[0]))
  got = [(a.dtype.name, tuple(a.shape)) for a in flat + values]
  if got != params:
    raise ValueError(f"parameters do not match the HLO: {got} vs {params}")
  return values


def export_row(out_dir, name, batch, exact, highest):
  """One benchmark row's three programs (and teacher forcing's, if small)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tensorflow_probability as tfp  # pylint: disable=g-import-not-at-top

  from tfp_fastpixel import _execution  # pylint: disable=g-import-not-at-top

  bench = _load("benchmark", os.path.join(HERE, "benchmark.py"))
  config = next(c for n, c, b in bench.suites("models") if n == name)
  dist, cond = bench._model(config, batch)
  _execution.prepare(dist, batch, cond)  # weight norm's data-dependent init
  dist = _execution.with_program(dist, "xla_accelerator")
  h, w, c = config["image_shape"]
  os.makedirs(out_dir, exist_ok=True)

  store = {}
  core, args = _execution.core_program(dist, batch, 1, cond)
  _save_program(out_dir, "sampler", core, args, (), exact, store, highest)
  if exact:  # teacher forcing on the device
    core, args = _execution.core_program(
        dist, batch, 3, cond, return_params=True
    )
    _save_program(
        out_dir, "sampler_params", core, args, (), exact, store, highest
    )

  images = tf.random.stateless_uniform([batch, h, w, c], [4, 5], -1.0, 1.0)
  inputs = images if cond is None else [images, cond]
  forward = tf.function(
      lambda x: dist.network(x, training=False), jit_compile=True
  )
  _save_program(
      out_dir,
      "forward",
      forward,
      (inputs,),
      dist.network.variables,
      exact,
      store,
      highest,
  )

  kwargs = {} if cond is None else {"conditional_input": cond}
  tfp_sample = tf.function(
      lambda: tfp.distributions.PixelCNN._sample_n(
          dist, batch, seed=2, **kwargs
      ),
      jit_compile=True,
  )
  _save_program(out_dir, "tfp", tfp_sample, (), None, False, store, highest)
  np.savez_compressed(os.path.join(out_dir, "arrays.npz"), **store)
  meta = dict(name=name, batch=batch, height=h, width=w, channels=c)
  meta.update(exact=exact, highest_precision=highest)
  with open(os.path.join(out_dir, "meta.json"), "w") as f:
    json.dump(meta, f)


def export_enumeration(out_dir, highest):
  """The tiny enumeration model: its core at 2 x 20,000 draws, and the
  exact probability of every image under each label."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  from tfp_fastpixel import _execution  # pylint: disable=g-import-not-at-top

  sys.path.insert(0, os.path.join(ROOT, "tests"))
  from conftest import every_image  # pylint: disable=g-import-not-at-top

  models = _load("make_models", os.path.join(ROOT, MODELS))
  config = models.EXACT[ENUM_CONFIG]
  dist, _ = models.load(ENUM_CONFIG)
  dist = _execution.with_program(dist, "xla_accelerator")
  labels = np.repeat(np.array(models.EXACT_LABELS, np.float32), ENUM_SAMPLES)
  os.makedirs(out_dir, exist_ok=True)
  store = {}
  core, args = _execution.core_program(
      dist, labels.size, 11, tf.constant(labels)
  )
  _save_program(out_dir, "sampler", core, args, (), True, store, highest)
  np.savez_compressed(os.path.join(out_dir, "arrays.npz"), **store)
  images = every_image(config["image_shape"], config["high"])
  probs = {
      f"p{label}": np.exp(
          np.asarray(
              dist.log_prob(images, conditional_input=float(label)),
              np.float64,
          )
      )
      for label in models.EXACT_LABELS
  }
  np.savez(os.path.join(out_dir, "probs.npz"), labels=labels, **probs)
  h, w, c = config["image_shape"]
  meta = dict(name=ENUM_CONFIG, batch=int(labels.size), height=h, width=w)
  meta.update(channels=c, high=config["high"], highest_precision=highest)
  with open(os.path.join(out_dir, "meta.json"), "w") as f:
    json.dump(meta, f)


# -- run (JAX only) --------------------------------------------------------


def _run_program(backend, device, path, arrays, repeats):
  """Compiles and times one exported program on `device`."""
  import jax  # pylint: disable=g-import-not-at-top
  from jax._src.lib import xla_client  # pylint: disable=g-import-not-at-top

  with gzip.open(path + ".pb.gz", "rb") as f:
    module = xla_client._xla.mlir.hlo_to_stablehlo(f.read())
  start = time.perf_counter()
  exe = backend.compile_and_load(
      module, xla_client.DeviceList((device,)), xla_client.CompileOptions()
  )
  compile_s = time.perf_counter() - start
  rng = np.random.default_rng(0)
  with open(path + ".json") as f:
    args = [
        arrays[p]
        if isinstance(p, str)
        else rng.normal(p["mean"], p["std"], p["shape"]).astype(p["dtype"])
        for p in json.load(f)
    ]
  args = [jax.device_put(a, device) for a in args]

  def call():
    # TF's programs may donate argument buffers: fresh copies, untimed.
    fresh = [jax.numpy.array(a, copy=True) for a in args]
    jax.block_until_ready(fresh)
    start = time.perf_counter()
    out = exe.execute(fresh)
    jax.block_until_ready(out)
    return out, time.perf_counter() - start

  out, first = call()
  times = [call()[1] for _ in range(repeats)]
  return dict(
      compile=compile_s,
      first=first,
      steady=float(np.median(times)),
      times=times,
      hlo=exe.hlo_modules()[0].to_string(),
      outputs=[np.asarray(o) for o in out],
  )


def run(args):
  import jax  # pylint: disable=g-import-not-at-top
  from jax._src import xla_bridge  # pylint: disable=g-import-not-at-top

  op_counts = _load(
      "op_counts", os.path.join(ROOT, "tfp_fastpixel", "op_counts.py")
  )
  backend = xla_bridge.get_backend()
  device = backend.local_devices()[0]
  os.makedirs(args.out, exist_ok=True)
  results = dict(
      date=time.strftime("%Y-%m-%d"),
      device=f"{device.platform}: {getattr(device, 'device_kind', device)}",
      jax=jax.__version__,
      xla_flags=os.environ.get("XLA_FLAGS", ""),  # they change the program
      rows={},
  )
  outputs = {}
  repeats = dict(sampler=5, sampler_params=1, forward=20, tfp=2)
  rows = _row_dirs(args.dir)
  for row in rows[:1] + [ENUM_DIR] + rows[1:]:  # the exactness checks first
    row_dir = os.path.join(args.dir, row)
    if not os.path.isdir(row_dir):
      continue
    with open(os.path.join(row_dir, "meta.json")) as f:
      meta = json.load(f)
    results["rows"][row] = dict(meta=meta)
    with np.load(os.path.join(row_dir, "arrays.npz")) as data:
      arrays = {k: data[k] for k in data.files}
    progs = ["sampler"] if row == ENUM_DIR else list(repeats)
    for prog in [p for p in progs if not args.programs or p in args.programs]:
      path = os.path.join(row_dir, prog)
      if not os.path.exists(path + ".pb.gz"):
        continue
      reps = 1 if row == ENUM_DIR else repeats[prog]
      try:
        r = _run_program(backend, device, path, arrays, reps)
      except Exception as e:  # pylint: disable=broad-except
        # One program's failure must not lose the others' results.
        results["rows"][row][prog] = dict(error=str(e)[:2000])
        print(row, prog, "failed:", str(e)[:2000], flush=True)
        continue
      if prog.startswith("sampler"):
        r["ops"], r["work"] = op_counts.xla_ops_per_pixel(
            r["hlo"], meta["height"], meta["width"]
        )
        if args.save_hlo:  # the device's optimised program, for reading
          with gzip.open(os.path.join(args.out, f"{row}.hlo.gz"), "wt") as f:
            f.write(r["hlo"])
      if meta.get("exact", True):
        for i, o in enumerate(r["outputs"]):
          outputs[f"{row}.{prog}.{i}"] = o
      del r["hlo"], r["outputs"]
      results["rows"][row][prog] = r
      print(row, prog, json.dumps(r), flush=True)
      # Written after every program: a run cut short still reports.
      with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
      np.savez(os.path.join(args.out, "outputs.npz"), **outputs)
  return 0


# -- report (TensorFlow) ---------------------------------------------------


def _outputs(path):
  with np.load(path) as data:
    return {k: data[k] for k in data.files}


def _teacher_forcing(row_dir, device_out):
  """Max |device's per-pixel params - one network pass on its samples|."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  from tfp_fastpixel import _execution  # pylint: disable=g-import-not-at-top
  from tfp_fastpixel import mixture  # pylint: disable=g-import-not-at-top

  bench = _load("benchmark", os.path.join(HERE, "benchmark.py"))
  with open(os.path.join(row_dir, "meta.json")) as f:
    meta = json.load(f)
  config = next(c for n, c, _ in bench.suites("models") if n == meta["name"])
  dist, cond = bench._model(config, meta["batch"])
  _execution.prepare(dist, meta["batch"], cond)
  samples, raw = device_out
  params = mixture.split_params(
      tf.constant(raw), dist.image_shape[-1], dist._components
  )
  x = mixture.to_network_scale(tf.constant(samples), *dist._pixel_range)
  reference = dist.network(x if cond is None else [x, cond], training=False)
  return max(
      float(tf.reduce_max(tf.abs(p - r))) for p, r in zip(params, reference)
  )


def _enumeration(row_dir, samples):
  """Chi-square p-value of the device's draws, per label."""
  sys.path.insert(0, os.path.join(ROOT, "tests"))
  exactness = _load(
      "test_exactness", os.path.join(ROOT, "tests", "test_exactness.py")
  )
  sys.path.insert(0, os.path.join(ROOT, "tests", "data"))
  exactness = _load(
      "test_exactness", os.path.join(ROOT, "tests", "test_exactness.py")
  )
  models = _load("make_models", os.path.join(ROOT, MODELS))
  config = models.EXACT[ENUM_CONFIG]
  probs = _outputs(os.path.join(row_dir, "probs.npz"))
  out = {}
  for label in models.EXACT_LABELS:
    mine = samples[probs["labels"] == label]
    out[label] = exactness._gof(mine, probs[f"p{label}"], config)[0]
  return out


def _fmt(value, spec, suffix=""):
  return "-" if value is None else f"{value:{spec}}{suffix}"


def report(args):
  with open(os.path.join(args.results, "results.json")) as f:
    results = json.load(f)
  device_out = _outputs(os.path.join(args.results, "outputs.npz"))
  highest = any(
      r["meta"].get("highest_precision") for r in results["rows"].values()
  )
  lines = [
      f"{results['date']}, {results['device']}, XLA from JAX "
      f"{results['jax']}; programs exported by `benchmarks/xla_gpu.py`"
      + ("; float32 products at full precision" if highest else "")
      + (
          f"; `XLA_FLAGS={results['xla_flags']}`"
          if results.get("xla_flags")
          else ""
      ),
  ]
  tfp_runs = {}
  if args.tfp_results:  # TFP's program does not depend on this package
    with open(args.tfp_results) as f:
      earlier = json.load(f)
    tfp_runs = {k: r["tfp"] for k, r in earlier["rows"].items() if "tfp" in r}
    lines.append(
        f"TFP sample: from the run of {earlier['date']} in "
        f"`{args.tfp_results}` (the same TFP program and weights)"
    )
  lines += [
      "",
      "| model | batch | 1 forward (s) | TFP sample (s) | kernels/px (all) |"
      " compile (s) | steady (s) | sampler / forward | vs TFP | "
      "pixels equal to CPU's |",
      "|---|---|---|---|---|---|---|---|---|---|",
  ]
  for row in _row_dirs(args.dir):
    r = results["rows"].get(row)
    if not r or "sampler" not in r:
      continue
    name, batch = r["meta"]["name"], r["meta"]["batch"]
    s, fwd = r["sampler"], r.get("forward")
    tfp_s = r.get("tfp", tfp_runs.get(row))
    equal = "- (synthetic weights)"
    if r["meta"]["exact"]:
      cpu = _outputs(os.path.join(args.dir, row, "sampler_cpu.npz"))["o0"]
      same = np.mean(cpu == device_out[f"{row}.sampler.0"])
      equal = f"{100 * same:.2f}%"
    f_s = fwd["steady"] if fwd and "steady" in fwd else None
    t_s = tfp_s["steady"] if tfp_s and "steady" in tfp_s else None
    lines.append(
        f"| {name} | {batch} | {_fmt(f_s, '.4f')} | {_fmt(t_s, '.3f')} | "
        f"{s['ops']:.0f} ({s['work']:.0f}) | {s['compile']:.1f} | "
        f"{s['steady']:.4f} | {_fmt(f_s and s['steady'] / f_s, '.1f', 'x')} | "
        f"**{_fmt(t_s and t_s / s['steady'], '.0f', 'x')}** | {equal} |"
    )
  checks = []
  for prog in ("forward",):
    row = "small_b8"
    if f"{row}.{prog}.0" not in device_out:
      continue
    cpu = _outputs(os.path.join(args.dir, row, f"{prog}_cpu.npz"))
    worst = max(
        float(np.max(np.abs(v - device_out[f"{row}.{prog}.{k[1:]}"])))
        for k, v in cpu.items()
    )
    checks.append(f"{prog} (small model): max |device - CPU| {worst:.2e}")
  key = "small_b8.sampler_params"
  if f"{key}.0" in device_out:
    worst = _teacher_forcing(
        os.path.join(args.dir, "small_b8"),
        (device_out[f"{key}.0"], device_out[f"{key}.1"]),
    )
    checks.append(f"teacher forcing (small model): max error {worst:.2e}")
  key = f"{ENUM_DIR}.sampler.0"
  if key in device_out:
    p = _enumeration(os.path.join(args.dir, ENUM_DIR), device_out[key])
    checks.append(
        "enumeration chi-square (2x2, 256 images, 20,000 draws per label): "
        + ", ".join(f"label {k} p={v:.3g}" for k, v in p.items())
    )
  lines += [""] + [f"- {c}" for c in checks]
  text = "\n".join(lines) + "\n"
  print(text)
  if args.out:
    with open(args.out, "w") as f:
      f.write(text)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
      json.dump(dict(results, checks=checks), f, indent=1)
  return 0


def main(argv=None):
  parser = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawTextHelpFormatter
  )
  parser.add_argument("step", choices=["export", "run", "report"])
  parser.add_argument("--dir", required=True, help="exported programs")
  parser.add_argument("--out", help="run: results folder; report: markdown")
  parser.add_argument("--results", help="report: the run's results folder")
  parser.add_argument(
      "--tfp_results",
      help="report: take TFP's timings from another run's JSON "
      "(results.json, or a report's .json)",
  )
  parser.add_argument(
      "--only",
      help="export: only rows whose folder contains one of these (a,b,..)",
  )
  parser.add_argument(
      "--batch",
      type=int,
      help="export: the selected rows at this batch size instead (for "
      "throughput at large batches; folders <model>_b<batch>)",
  )
  parser.add_argument(
      "--programs", help="run: only these programs (sampler,forward,...)"
  )
  parser.add_argument(
      "--save_hlo",
      action="store_true",
      help="run: also save each sampler's optimised HLO (<row>.hlo.gz)",
  )
  parser.add_argument(
      "--highest_precision",
      action="store_true",
      help="export: float32 products at full precision (no TF32 on a GPU)",
  )
  args = parser.parse_args(argv)
  args.programs = args.programs.split(",") if args.programs else None
  if args.step == "export":
    only = args.only.split(",") if args.only else None
    exported = set()
    for row, name, batch in ROWS:
      if only and not any(o in row for o in only):
        continue
      if args.batch:  # e.g. quickdraw_b8 -> quickdraw_b256
        row, batch = f"{row.rsplit('_b', 1)[0]}_b{args.batch}", args.batch
      if row in exported:  # two rows of one model, at the same batch now
        continue
      exported.add(row)
      export_row(
          os.path.join(args.dir, row),
          name,
          batch,
          name == "small",
          args.highest_precision,
      )
      print("exported", row, flush=True)
    if not only or any(o in ENUM_DIR for o in only):
      export_enumeration(
          os.path.join(args.dir, ENUM_DIR), args.highest_precision
      )
      print("exported", ENUM_DIR, flush=True)
    return 0
  if args.step == "run":
    return run(args)
  return report(args)


if __name__ == "__main__":
  sys.exit(main())
