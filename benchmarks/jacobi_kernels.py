"""Kernels per image: the Jacobi row program against the pixel-by-pixel one.

Where a generator step is bound by launch latency (a GPU at small batch),
what a call costs is about the kernels it launches one after another. This
script counts them for the two programs an accelerator would run, from the
optimised HLO that XLA makes of each (`op_counts.xla_ops_per_pixel`):

* `xla_accelerator`: per row, the row loop's own kernels (the vertical
  stack and the row terms) and W pixel steps;
* `xla_jacobi`: per row, the row loop's own kernels and k Jacobi passes,
  each over the whole row, until a pass changes nothing (at most W).

A call's kernels, `H * (row + W * step)` against `H * (row + mean k *
pass)`, are launched once for the whole batch (every kernel works on all
of its images), so they are given per call, which draws one image per
batch member; their ratio is the factor by which the Jacobi program
launches fewer. k is the most passes any image of the batch needs on that
row, so it grows with the batch.

On the trained models of `jacobi_rows.py` (`digits`, `digits28`,
`strokes28`, loaded from `--work_dir`, trained there if missing), k is
measured with the Jacobi program itself on `--images` images per batch
size (`ceil(images / batch)` calls, seeds `--seed`, `--seed + 1`, ...; the
class labels cycle through the classes), and every call's draws are
compared with the accelerator program's for the same seed, which must be
the same images (a row's passes stop at its exact fixed point).

The QuickDraw and PixelCNN++ CIFAR architectures of `benchmark.py` have no
trained weights here, and an untrained network's k says nothing about a
trained one's; for them the table gives the break-even k: the mean passes
per row at which the Jacobi program launches as many kernels as the
accelerator program, and the k at which it launches half as many. With
`--untrained_passes`, it also runs both programs once on the seeded
untrained weights, which checks their draws on these architectures and
shows that network's k, labelled as such.

The counts come from XLA's CPU compiler. XLA's GPU compiler fuses more
(`results_gpu.md` counts the accelerator program compiled for a GPU), so a
GPU launches fewer kernels than counted here; both programs are compiled
here for the CPU, so their ratio compares like with like.

Run (about 10 minutes on 2 shared CPU cores with the cached models, 4 of
them for QuickDraw and CIFAR with `--untrained_passes`):

  python benchmarks/jacobi_kernels.py [--work_dir /tmp/jacobi_rows]
      [--models digits digits28 strokes28] [--batches 1 8 16]
      [--images 128] [--seed 1] [--architectures QuickDraw CIFAR]
      [--untrained_passes] [--out benchmarks/jacobi_kernels_cpu.md]
"""

import argparse
import functools
import importlib.metadata
import json
import math
import os
import sys
import time

import benchmark
import jacobi_rows
import numpy as np
import tensorflow as tf

from tfp_fastpixel import _execution
from tfp_fastpixel import op_counts

PROGRAMS = ("xla_accelerator", "xla_jacobi")
ARCHITECTURES = {
    "QuickDraw": (benchmark.QUICKDRAW, 8),
    "CIFAR": (benchmark.CIFAR, 16),
}


# ---------------------------------------------------------------------------
# Counting.


def kernels(programs, n, cond_for_size):
  """Each program's kernels per row outside its inner loop, and per step.

  Args:
    programs: `{program: the model's view that runs it}` (`with_program`).
    n: the batch size.
    cond_for_size: `fn(m)`, a conditional input for m images (or None).

  Returns:
    `{program: dict(row=, step=, hlo_seconds=)}`: `step` is a pixel step
    for `xla_accelerator` and a Jacobi pass for `xla_jacobi`, with each
    deeper level weighted by the share of pixels (a quarter) or rows (a
    half) it runs on.
  """
  out = {}
  for program in PROGRAMS:
    start = time.time()
    fast = programs[program]
    h, w, _ = fast.image_shape.as_list()
    # `sample` compiles a trace for any batch size; tracing another size
    # first makes the core relax to that trace (it reduces retracing).
    core, args = _execution.core_program(fast, n + 1, 0, cond_for_size(n + 1))
    core.get_concrete_function(*args)
    core, args = _execution.core_program(fast, n, 0, cond_for_size(n))
    hlo = core.experimental_get_compiler_ir(*args)(stage="optimized_hlo")
    jacobi = program == "xla_jacobi"
    # The counts are linear in the inner loop's trips: 0 leaves the row
    # loop's own kernels, 1 adds one step.
    row, one = (
        op_counts.xla_ops_per_pixel(
            hlo, h, w, inner_trips=trips, row_parallel=jacobi
        )[0]
        * w
        for trips in (0, 1)
    )
    out[program] = dict(
        row=row,
        step=one - row,
        hlo_seconds=round(time.time() - start, 1),
    )
    if not jacobi:  # the counter's own weighting: W steps a row
      total = op_counts.xla_ops_per_pixel(hlo, h, w)[0] * w
      assert math.isclose(total, row + w * out[program]["step"]), total
  return out


def per_call(counts, h, w, passes):
  """Kernels per call of each program, given the mean passes per row."""
  acc, jac = counts["xla_accelerator"], counts["xla_jacobi"]
  return (
      h * (acc["row"] + w * acc["step"]),
      h * (jac["row"] + passes * jac["step"]),
  )


def passes_for(counts, h, w, ratio):
  """The mean passes per row at which the accelerator program launches
  `ratio` times the Jacobi program's kernels (1: break-even)."""
  acc, jac = counts["xla_accelerator"], counts["xla_jacobi"]
  return ((acc["row"] + w * acc["step"]) / ratio - jac["row"]) / jac["step"]


# ---------------------------------------------------------------------------
# Running.


def row_depths(h, levels):
  """The deepest level running on each row (as the generator's plan)."""
  out = []
  for i in range(h):
    k = 0
    while k + 1 < levels and i % 2 ** (k + 1) == 0:
      k += 1
    out.append(k)
  return np.array(out)


def draw(programs, passes_fn, n, seeds, cond_for):
  """Both programs' draws for each seed; the Jacobi program's passes.

  Returns:
    `(passes [calls, H], differing images, differing pixels, seconds)`;
    a pixel differs where any of its channels does.
  """
  acc = programs["xla_accelerator"]
  passes, images, pixels = [], 0, 0
  seconds = dict(xla_accelerator=0.0, xla_jacobi=0.0)
  for seed in seeds:
    cond = cond_for(seed)
    start = time.time()
    jac_samples, row_passes = passes_fn(n, seed, cond)
    jac_samples = jac_samples.numpy()
    passes.append(row_passes.numpy())
    seconds["xla_jacobi"] += time.time() - start
    start = time.time()
    acc_samples = acc.sample(n, seed=seed, conditional_input=cond).numpy()
    seconds["xla_accelerator"] += time.time() - start
    differ = np.any(jac_samples != acc_samples, axis=-1)  # [n, H, W]
    images += int(np.sum(np.any(differ, axis=(1, 2))))
    pixels += int(np.sum(differ))
  seconds = {k: round(v, 1) for k, v in seconds.items()}
  return np.stack(passes), images, pixels, seconds


def same_as_sampler(programs, passes_fn, n, seed, cond):
  """Whether the program that counts the passes draws what the Jacobi
  `sample` draws."""
  ours, _ = passes_fn(n, seed, cond)
  sampled = programs["xla_jacobi"].sample(n, seed=seed, conditional_input=cond)
  return bool(np.array_equal(ours.numpy(), sampled.numpy()))


def passes_summary(passes, depths):
  """Mean passes per row, overall and on the rows each level runs on."""
  by_level = {
      str(k): round(float(passes[:, depths >= k].mean()), 3)
      for k in range(int(depths.max()) + 1)
  }
  return dict(
      mean=float(passes.mean()),
      max=int(passes.max()),
      mean_on_rows_of_level=by_level,
  )


def measure_trained(name, dist, spec, batches, images, seed):
  """Rows of the trained-model table, one per batch size."""
  h, w, _ = dist.image_shape.as_list()
  levels = dist.parameters["num_hierarchies"]
  depths = row_depths(h, levels)
  programs = {p: _execution.with_program(dist, p) for p in PROGRAMS}
  passes_fn = functools.partial(
      _execution.passes_per_row, programs["xla_jacobi"]
  )
  classes = spec.classes

  def labels(m, first=0):
    """One-hot labels of m images, cycling through the classes."""
    ids = [classes[(first + i) % len(classes)] for i in range(m)]
    return spec.conditional_input(ids)

  rows = []
  for n in batches:

    def cond_for(s, n=n):
      return labels(n, first=(s - seed) * n)

    start = time.time()
    counts = kernels(programs, n, labels)
    calls = math.ceil(images / n)
    seeds = list(range(seed, seed + calls))
    passes, diff_images, diff_pixels, seconds = draw(
        programs, passes_fn, n, seeds, cond_for
    )
    summary = passes_summary(passes, depths)
    acc_call, jac_call = per_call(counts, h, w, summary["mean"])
    row = dict(
        model=name,
        trained=True,
        shape=dist.image_shape.as_list(),
        batch=n,
        calls=calls,
        images=calls * n,
        kernels=counts,
        passes=summary,
        passes_per_call=passes.tolist(),
        accelerator_per_call=acc_call,
        jacobi_per_call=jac_call,
        ratio=acc_call / jac_call,
        break_even_passes=passes_for(counts, h, w, 1.0),
        passes_for_2x=passes_for(counts, h, w, 2.0),
        differing_images=diff_images,
        differing_pixels=diff_pixels,
        run_seconds=seconds,
        seconds=round(time.time() - start, 1),
    )
    if n == batches[0]:
      row["jacobi_sample_and_passes_per_row_agree"] = same_as_sampler(
          programs, passes_fn, n, seed, cond_for(seed)
      )
    rows.append(row)
    print(json.dumps({k: v for k, v in row.items() if k != "passes_per_call"}))
  return rows


def measure_architecture(name, config, n, seed, untrained_passes):
  """One row of the architecture table (seeded, untrained weights)."""
  start = time.time()
  dist, cond = benchmark._model(config, n)  # pylint: disable=protected-access
  _execution.prepare(dist, n, cond)  # weight norm's init
  h, w, _ = dist.image_shape.as_list()
  programs = {p: _execution.with_program(dist, p) for p in PROGRAMS}

  def cond_for_size(m):
    return None if cond is None else tf.zeros([m] + list(cond.shape[1:]))

  counts = kernels(programs, n, cond_for_size)
  acc_call, _ = per_call(counts, h, w, 0)
  row = dict(
      model=name,
      trained=False,
      shape=list(config["image_shape"]),
      batch=n,
      kernels=counts,
      accelerator_per_call=acc_call,
      break_even_passes=passes_for(counts, h, w, 1.0),
      passes_for_2x=passes_for(counts, h, w, 2.0),
  )
  if untrained_passes:
    passes, diff_images, diff_pixels, seconds = draw(
        programs,
        functools.partial(_execution.passes_per_row, programs["xla_jacobi"]),
        n,
        [seed],
        lambda s: cond,
    )
    depths = row_depths(h, config["num_hierarchies"])
    row.update(
        untrained_passes=passes_summary(passes, depths),
        passes_per_call=passes.tolist(),
        images=n,
        differing_images=diff_images,
        differing_pixels=diff_pixels,
        run_seconds=seconds,
    )
  row["seconds"] = round(time.time() - start, 1)
  print(json.dumps({k: v for k, v in row.items() if k != "passes_per_call"}))
  return row


# ---------------------------------------------------------------------------
# Report.


def _shape(shape):
  return "x".join(map(str, shape))


def _draws(r):
  return (
      f"{r['differing_images']}/{r['images']} images, "
      f"{r['differing_pixels']} pixels"
  )


def markdown(meta, models, trained, architectures, command):
  lines = [
      f"{meta['date']}, TF {meta['tensorflow']}, TFP {meta['tfp']}, CPU "
      f"({meta['cpu']}, {meta['cores']} cores); kernels counted in the "
      f"HLO of XLA's CPU compiler; tfp_fastpixel {meta['source']}; "
      f"the run took {meta['seconds'] / 60:.0f} minutes",
      f"Command: `{command}`",
      "",
      "Kernels (fusions, dots, convolutions, custom calls: what a GPU "
      "launches) in the optimised HLO of the pixel-by-pixel accelerator "
      "program and of the Jacobi row program (`op_counts`). Row: the row "
      "loop's own kernels, per row. Step: per pixel step (accelerator) or "
      "per Jacobi pass over the row, with a deeper level counted at the "
      "share it runs on (a quarter of the pixels, half of the rows). "
      "Per call: the kernels of one call, `H x (row + W x step)` and "
      "`H x (row + mean k x pass)`, launched once for the whole batch. "
      "Mean k: the Jacobi program's passes per row, the most of any image "
      "of the batch, measured by the program on the trained weights. Ratio: "
      "accelerator / Jacobi kernels per call. Break-even k: the mean k at "
      "which both launch as many kernels; k for 2x: at which the Jacobi "
      "program launches half as many.",
      "",
      "| model | trained | held-out bits/dim |",
      "|---|---|---|",
  ]
  for name, info in models.items():
    m = info["model"]
    lines.append(
        f"| {name} ({_shape(info['image_shape'][:2])}, 0..{info['high']}; "
        f"{m['num_resnet']} resnet, {m['num_hierarchies']} levels, "
        f"{m['num_filters']} filters, {m['num_logistic_mix']} logistics) | "
        f"{info['epochs']} epochs | {info['heldout_bits_per_dim']:.3f} |"
    )
  lines += [
      "",
      "Trained models:",
      "",
      "| model | image | batch | images (calls) | accelerator: row, step | "
      "Jacobi: row, pass | mean k (max) | W / mean k | accelerator per call "
      "| Jacobi per call | ratio | break-even k | k for 2x | draws differing "
      "from the accelerator's |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ]
  for r in trained:
    acc, jac = r["kernels"]["xla_accelerator"], r["kernels"]["xla_jacobi"]
    w = r["shape"][1]
    k = r["passes"]
    lines.append(
        f"| {r['model']} | {_shape(r['shape'])} | {r['batch']} | "
        f"{r['images']} ({r['calls']}) | {acc['row']:.1f}, {acc['step']:.1f} "
        f"| {jac['row']:.1f}, {jac['step']:.1f} | {k['mean']:.2f} "
        f"({k['max']}) | {w / k['mean']:.2f} | "
        f"{r['accelerator_per_call']:.0f} | {r['jacobi_per_call']:.0f} | "
        f"**{r['ratio']:.2f}x** | {r['break_even_passes']:.1f} | "
        f"{r['passes_for_2x']:.1f} | {_draws(r)} |"
    )
  if architectures:
    untrained = any("untrained_passes" in r for r in architectures)
    lines += [
        "",
        "Architectures without trained weights here (`benchmark.py`'s "
        "QuickDraw and PixelCNN++ CIFAR models; the counts do not depend on "
        "the weights, k does):",
        "",
        "| model | image | batch | accelerator: row, step | Jacobi: row, "
        "pass | accelerator per call | break-even k (W / k) | k for 2x "
        "(W / k) |"
        + (
            " untrained weights only: mean k (max) | draws differing from "
            "the accelerator's |"
            if untrained
            else ""
        ),
        "|---|---|---|---|---|---|---|---|" + ("---|---|" if untrained else ""),
    ]
    for r in architectures:
      acc, jac = r["kernels"]["xla_accelerator"], r["kernels"]["xla_jacobi"]
      w = r["shape"][1]
      line = (
          f"| {r['model']} | {_shape(r['shape'])} | {r['batch']} | "
          f"{acc['row']:.1f}, {acc['step']:.1f} | {jac['row']:.1f}, "
          f"{jac['step']:.1f} | {r['accelerator_per_call']:.0f} | "
          f"{r['break_even_passes']:.1f} "
          f"({w / r['break_even_passes']:.2f}) | {r['passes_for_2x']:.1f} "
          f"({w / r['passes_for_2x']:.2f}) |"
      )
      if untrained:
        k = r.get("untrained_passes")
        line += (
            " - | - |"
            if k is None
            else f" {k['mean']:.2f} ({k['max']}) | {_draws(r)} |"
        )
      lines.append(line)
    if untrained:
      lines += [
          "",
          "The untrained k is not the target: k depends on what a model "
          "has learnt (how a pixel's mixture depends on the pixels before "
          "it), and these weights have learnt nothing. It is shown with the "
          "draws check, which must hold on any weights.",
      ]
  lines += [
      "",
      "Mean k on the rows each level runs on (level 0: every row; a "
      "deeper level's kernels run only on its rows, and are counted at "
      "the overall mean k):",
      "",
  ]
  for r in trained + [r for r in architectures if "untrained_passes" in r]:
    k = r.get("passes") or r["untrained_passes"]
    by_level = ", ".join(
        f"level {lv}: {v:.2f}" for lv, v in k["mean_on_rows_of_level"].items()
    )
    label = "" if r["trained"] else " (untrained)"
    lines.append(f"* {r['model']}{label}, batch {r['batch']}: {by_level}")
  lines += [
      "",
      "Draws: every call's images from the Jacobi program against the "
      "accelerator program's for the same seed. The two sum in different "
      "orders, so float rounding can tip a pixel whose draw lies on a "
      "rounding edge, and one tipped pixel changes the rest of its image.",
  ]
  checks = [r for r in trained if "jacobi_sample_and_passes_per_row_agree" in r]
  if checks:
    lines += [
        "",
        "The program that measures k (`_execution.passes_per_row`) draws "
        "what the Jacobi program's `sample` draws (checked on each "
        "model's first call at its first batch size): "
        + ", ".join(
            f"{r['model']}: {r['jacobi_sample_and_passes_per_row_agree']}"
            for r in checks
        )
        + ".",
    ]
  return "\n".join(lines) + "\n"


def main(argv=None):
  parser = argparse.ArgumentParser(
      description=__doc__.split("\n\n")[0],
      formatter_class=argparse.RawDescriptionHelpFormatter,
  )
  jacobi_rows.add_model_arguments(
      parser, "jacobi_rows.py's trained runs (trained there if missing)", "*"
  )
  parser.add_argument("--batches", nargs="+", type=int, default=[1, 8, 16])
  parser.add_argument(
      "--images",
      type=int,
      default=128,
      help="images per batch size on which k is measured",
  )
  parser.add_argument(
      "--architectures",
      nargs="*",
      default=list(ARCHITECTURES),
      choices=list(ARCHITECTURES),
  )
  parser.add_argument(
      "--untrained_passes",
      action="store_true",
      help="also run both programs once on the architectures' untrained "
      "weights (k and the draws check)",
  )
  parser.add_argument(
      "--out", default=None, help="markdown report (and a .json beside it)"
  )
  args = parser.parse_args(argv)
  jacobi_rows.check_model_arguments(parser, args)
  if args.images < 1:
    parser.error(f"--images: expected >= 1, got {args.images}")
  if min(args.batches) < 1:
    parser.error(f"--batches: expected >= 1, got {args.batches}")

  start = time.time()
  models, trained = {}, []
  for name in args.models:
    epochs = getattr(args, f"{name}_epochs")
    dist, spec, info = jacobi_rows.trained_model(
        name, args.work_dir, epochs, verbose=0
    )
    models[name] = info
    trained += measure_trained(
        name, dist, spec, args.batches, args.images, args.seed
    )
  architectures = [
      measure_architecture(
          name, *ARCHITECTURES[name], args.seed, args.untrained_passes
      )
      for name in args.architectures
  ]

  command = "python benchmarks/jacobi_kernels.py " + " ".join(
      argv if argv is not None else sys.argv[1:]
  )
  meta = jacobi_rows.environment()
  meta["seconds"] = round(time.time() - start, 1)
  meta["source"] = importlib.metadata.version("tfp_fastpixel")
  text = markdown(meta, models, trained, architectures, command.strip())
  print(text)
  if args.out:
    with open(args.out, "w") as f:
      f.write(text)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
      json.dump(
          dict(
              meta=meta,
              models=models,
              trained=trained,
              architectures=architectures,
          ),
          f,
          indent=1,
      )
  return 0


if __name__ == "__main__":
  sys.exit(main())
