"""Jacobi iterations per image row: how many dependent steps a row needs.

With the noise of every position fixed in advance (the generator's own
Gumbel and logistic draws for a seed), each pixel is a deterministic
function of the pixels before it, so an image is the unique solution of a
triangular system. Jacobi iteration on one row at a time, with the rows
above final, reaches that solution in at most W passes: pass t makes pixel
t-1 of the row right, whatever the guess. A row is done at the first pass
that changes nothing, or after W passes (then it is right by the argument
above, with no confirming pass). `k` is the number of passes a row took.

This script measures `k` on trained models, simply and slowly: every pass
is one full network pass (`dist.network`) on the whole current guess, and
the row's pixels are recomputed from it with `mixture.sample_pixel` and the
noise `FastPixelCNN.sample` draws for the same seed. For each model it
reports, for two initial guesses of a row (the row above, and zeros):

* the distribution of `k` per row, per image (each image stops on its own)
  and per batch (a batched program runs until every image of the batch has
  converged: the max over the images);
* `W / mean k`, the factor by which a row-parallel program would cut the
  sequential steps, and the steps per image, `sum of k over rows`, against
  `H * W` for the pixel-by-pixel program;
* correctness: the fraction of pixels equal to `dist.sample` with the same
  seed (the exact sequential sample), and how many pixels of `dist.sample`'s
  own images the full network redraws differently (float rounding of the
  two computations: the cached generator's and the full network's), which
  is what a mismatch starts from, since one tipped pixel changes the rest of
  its image.

Models, trained with `tfp_fastpixel.train.train` and cached under
`--work_dir` (a rerun loads them):

* `digits`: the CLI demo's model (8x8x1, values 0..16, one-hot labels,
  2 resnet blocks, 2 levels, 32 filters, 5 logistics, dropout 0.3, batch 32,
  learning rate 2e-3), for `--digits_epochs` epochs.
* `digits28`: 28x28x1 and conditional, like the QuickDraw model: the
  scikit-learn digits upsampled by nearest neighbour to 28x28 and rescaled
  from 0..16 to 0..255 (`round(v * 255 / 16)`), written as PNGs and read by
  the `folder` dataset (which serves 0..255 images), with the digits' own
  train/test split; 1 resnet block, 3 levels, 32 filters, 5 logistics,
  dropout 0.3, for `--digits28_epochs` epochs. Upsampling repeats every
  input row 3 or 4 times, which flatters the row-above guess.
* `strokes28`: the same model on synthetic doodles closer to QuickDraw's
  bitmaps: thin antialiased strokes (circles, squares, triangles, crosses,
  zigzags, jittered as by hand) on a black 28x28 background, 0..255, five
  classes of 360 training and 40 test images, for `--strokes28_epochs`
  epochs.

All three train with batch 32 and learning rate 2e-3 (the demo's). The
training is short, so the models are far from converged; `k` depends on
what a model has learnt, so the report states each one's held-out
bits/dim.

Run (training takes most of the time: about 40 minutes on 2 busy, shared
CPU cores the first time; a rerun with the cached models about 4):

  python benchmarks/jacobi_rows.py [--work_dir /tmp/jacobi_rows]
      [--models digits digits28 strokes28] [--batch 16] [--seed 1]
      [--out benchmarks/jacobi_rows_cpu.md]
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

MODELS = ("digits", "digits28", "strokes28")
EPOCHS = dict(digits=10, digits28=8, strokes28=8)  # the default of each
INITS = ("previous_row", "zeros")

# The CLI demo's model (`python -m tfp_fastpixel demo`'s flags).
DIGITS_MODEL = dict(
    num_resnet=2,
    num_hierarchies=2,
    num_filters=32,
    num_logistic_mix=5,
    dropout_p=0.3,
)
DIGITS28_MODEL = dict(
    num_resnet=1,
    num_hierarchies=3,
    num_filters=32,
    num_logistic_mix=5,
    dropout_p=0.3,
)
_TRAIN = dict(batch_size=32, learning_rate=2e-3, seed=0)


# ---------------------------------------------------------------------------
# Models.


def write_digits28(root):
  """Digits upsampled to 28x28 as PNGs: `root/{train,test}/<digit>/*.png`.

  Nearest neighbour (output row r reads input row floor(r * 8 / 28), so
  every input row is repeated 3 or 4 times), values `round(v * 255 / 16)`;
  the split is the `digits` dataset's own (its seeded held-out carve).
  """
  from tfp_fastpixel import data as data_lib

  index = (np.arange(28) * 8) // 28

  def make_split(split):
    images, labels = data_lib.as_numpy(
        data_lib.load("digits", split, batch_size=256, shuffle=False)
    )
    big = images[:, index][:, :, index]  # [N, 28, 28, 1] in 0..16
    big = np.round(big * 255.0 / 16.0).astype(np.uint8)
    return big, labels.astype(int)

  return write_png_tree(root, make_split)


STROKE_CLASSES = ("circle", "square", "triangle", "cross", "zigzag")


def doodle(rng, shape_class, size=28):
  """One hand-drawn-looking shape: a jittered polyline drawn as an
  antialiased stroke about 2 pixels wide, uint8 `[size, size, 1]` in
  0..255 on a black background, as QuickDraw's bitmaps are."""
  centre = rng.uniform(0.35, 0.65, 2) * size
  radius = rng.uniform(0.18, 0.4) * size
  turn = rng.uniform(0, 2 * np.pi)
  if shape_class == "circle":
    angles = np.linspace(0, 2 * np.pi, 25)
    points = np.stack([np.cos(angles), np.sin(angles)], 1)
    strokes = [points]
  elif shape_class in ("square", "triangle"):
    corners = 4 if shape_class == "square" else 3
    angles = np.arange(corners + 1) * 2 * np.pi / corners + np.pi / 4
    strokes = [np.stack([np.cos(angles), np.sin(angles)], 1)]
  elif shape_class == "cross":
    strokes = [
        np.array([[-1.0, -1.0], [1.0, 1.0]]),
        np.array([[-1.0, 1.0], [1.0, -1.0]]),
    ]
  else:  # zigzag
    xs = np.linspace(-1, 1, rng.integers(4, 7))
    ys = np.where(np.arange(len(xs)) % 2, 0.6, -0.6)
    strokes = [np.stack([xs, ys], 1)]
  rotation = np.array(
      [[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]]
  )
  yx = (
      np.stack(
          np.meshgrid(np.arange(size), np.arange(size), indexing="ij"), -1
      ).reshape(-1, 2)
      + 0.5
  )
  distance = np.full(len(yx), np.inf)
  for stroke in strokes:
    points = stroke + rng.normal(0, 0.08, stroke.shape)  # a shaky hand
    points = centre + radius * points @ rotation.T
    for a, b in zip(points[:-1], points[1:]):
      ab = b - a
      t = np.clip(((yx - a) @ ab) / max(ab @ ab, 1e-9), 0, 1)
      closest = a + t[:, None] * ab
      distance = np.minimum(distance, np.linalg.norm(yx - closest, axis=1))
  ink = np.clip(1.5 - distance, 0, 1)  # 1 within 0.5 px, fading over 1 px
  return np.round(255 * ink).astype(np.uint8).reshape(size, size, 1)


def write_png_tree(root, make_split):
  """Writes `root/{train,test}/<class>/*.png` from `make_split(split) ->
  (images uint8 [N, H, W, 1], class names [N])`; keeps a complete tree."""
  import tensorflow as tf

  marker = os.path.join(root, "complete")
  if os.path.exists(marker):
    return root
  for split in ("train", "test"):
    images, names = make_split(split)
    for n, (image, name) in enumerate(zip(images, names)):
      folder = os.path.join(root, split, str(name))
      os.makedirs(folder, exist_ok=True)
      tf.io.write_file(
          os.path.join(folder, f"{n:05d}.png"), tf.io.encode_png(image)
      )
  with open(marker, "w") as f:
    f.write("ok\n")
  return root


def write_strokes28(root, train_per_class=360, test_per_class=40):
  """Synthetic doodles (`STROKE_CLASSES`), 28x28 in 0..255, as PNGs."""

  def make_split(split):
    rng = np.random.default_rng(0 if split == "train" else 1)
    count = train_per_class if split == "train" else test_per_class
    names = [c for c in STROKE_CLASSES for _ in range(count)]
    return np.stack([doodle(rng, c) for c in names]), names

  return write_png_tree(root, make_split)


def trained_model(name, work_dir, epochs, verbose):
  """`(dist, spec, info)` of a trained model, training it if needed."""
  from tfp_fastpixel import data as data_lib
  from tfp_fastpixel import train as train_lib

  run_dir = os.path.join(work_dir, f"{name}_e{epochs}")
  if name == "digits":
    data_config = dict(name="digits", labels="onehot")
    model = DIGITS_MODEL
  else:
    write = write_digits28 if name == "digits28" else write_strokes28
    root = write(os.path.join(work_dir, f"{name}_png"))
    data_config = dict(
        name="folder", labels="onehot", data_dir=root, channels=1
    )
    model = DIGITS28_MODEL
  start = time.time()
  result = train_lib.train(
      run_dir,
      data_config,
      dict(model),
      epochs=epochs,
      verbose=verbose,
      **_TRAIN,
  )
  seconds = time.time() - start
  config = train_lib.read_config(run_dir)
  spec = data_lib.describe(
      config["data"]["name"],
      config["data"].get("classes"),
      config["data"].get("labels"),
      config["data"].get("data_dir"),
      config["data"].get("image_size"),
      config["data"].get("channels", 3),
  )
  val_bpd = None
  history = os.path.join(run_dir, train_lib.HISTORY_FILE)
  if os.path.exists(history):
    with open(history) as f:
      rows = [line.strip().split(",") for line in f if line.strip()]
    if len(rows) > 1 and "val_bits_per_dim" in rows[0]:
      val_bpd = float(rows[-1][rows[0].index("val_bits_per_dim")])
  info = dict(
      run_dir=run_dir,
      epochs=result.epoch,
      train_or_load_seconds=round(seconds, 1),
      heldout_bits_per_dim=val_bpd,
      model=dict(model),
      image_shape=list(spec.image_shape),
      high=spec.high,
  )
  return result.dist, spec, info


# ---------------------------------------------------------------------------
# Jacobi iteration over rows.


def redraw_all(dist, seed, n):
  """`fn(images) -> pixels`: every pixel redrawn from one full network pass.

  Pixel (i, j) of the result is `sample_pixel` of the network's parameters
  at (i, j) on `images`, with the noise `dist.sample(n, seed=seed)` uses
  there, so it depends only on `images`' pixels before (i, j). The exact
  sample for the seed is the one image this map leaves unchanged.
  """
  import tensorflow as tf

  from tfp_fastpixel import mixture
  from tfp_fastpixel import validation

  h, w, c = dist.image_shape.as_list()
  m = dist.parameters["num_logistic_mix"]
  low = tf.constant(dist.parameters["low"], dist.dtype)
  high = tf.constant(dist.parameters["high"], dist.dtype)
  gumbel, logistic = mixture.noise(
      validation.stateless_seed(seed), [h, w, n], m, c, dist.dtype
  )
  # [H, W, B, ...] -> [B * H * W, ...], the order of the network's output.
  gumbel = tf.reshape(tf.transpose(gumbel, [2, 0, 1, 3]), [-1, m])
  logistic = tf.reshape(tf.transpose(logistic, [2, 0, 1, 3]), [-1, c])

  @tf.function(
      input_signature=[
          tf.TensorSpec([n, h, w, c], dist.dtype),
          tf.TensorSpec(None, dist.dtype),
      ],
      autograph=False,  # no Python control flow to convert
  )
  def fn(images, cond):
    scaled = mixture.to_network_scale(images, low, high)
    inputs = scaled if dist.conditional_shape is None else [scaled, cond]
    params = dist.network(inputs, training=False)
    flat = [tf.reshape(p, [n * h * w] + p.shape[3:].as_list()) for p in params]
    pixels, _ = mixture.sample_pixel(flat, gumbel, logistic, low, high)
    return tf.reshape(pixels, [n, h, w, c])

  return fn


def jacobi_rows(redraw, cond, shape, init):
  """Samples row by row by Jacobi iteration.

  Args:
    redraw: `redraw_all`'s function.
    cond: the conditional input (or a dummy for unconditional models).
    shape: `(B, H, W, C)`.
    init: 'previous_row' (a row starts as the final row above; row 0 as
      zeros) or 'zeros'.

  Returns:
    `(images [B, H, W, C], k [H, B])`: the fixed point, and the passes each
    row of each image took.
  """
  b, h, w, c = shape
  images = np.zeros(shape, np.float32)
  k = np.zeros([h, b], np.int64)
  for i in range(h):
    if init == "previous_row" and i > 0:
      images[:, i] = images[:, i - 1]
    done = np.zeros([b], np.int64)  # the pass that changed nothing; 0: none
    for t in range(1, w + 1):
      row = redraw(images, cond).numpy()[:, i]
      same = np.all(row == images[:, i], axis=(1, 2))
      done[(done == 0) & same] = t
      images[:, i] = row
      if np.all(done > 0):
        break
    # After W passes every pixel of the row is right (pass t fixes pixel
    # t-1), so a row still changing at pass W needs no confirming pass.
    done[done == 0] = w
    k[i] = done
  return images, k


def summarize(k, w):
  """Statistics of `k [H, B]`, per image (every entry) and per batch (the
  max over the images of each row)."""
  out = {}
  for kind, values in (("per_image", k.reshape(-1)), ("per_batch", k.max(1))):
    mean = float(values.mean())
    counts = np.bincount(values, minlength=w + 1)[1:]
    out[kind] = dict(
        mean=round(mean, 3),
        median=float(np.median(values)),
        max=int(values.max()),
        w_over_mean_k=round(w / mean, 3),
        histogram={str(j + 1): int(n) for j, n in enumerate(counts) if n},
    )
  # Sequential steps per image: a batched program runs the batch's k.
  out["steps_per_image"] = int(k.max(1).sum())
  # An image's k does not depend on the rest of its batch (the network
  # treats batch members independently), so smaller batches' k is the max
  # over groups of consecutive images of this one.
  h, b = k.shape
  out["by_batch_size"] = {}
  for size in sorted({1, 8, b}):
    if size > b or b % size:
      continue
    grouped = k.reshape(h, b // size, size).max(2)  # [H, groups]
    out["by_batch_size"][str(size)] = dict(
        w_over_mean_k=round(w / float(grouped.mean()), 3),
        steps_per_image=round(float(grouped.sum(0).mean()), 1),
    )
  return out


def measure(name, dist, spec, batch, seed):
  """Jacobi statistics and the exactness checks of one model."""
  import tensorflow as tf

  h, w, c = dist.image_shape.as_list()
  if spec.labels is None:
    cond, cond_t = None, tf.zeros([0], dist.dtype)  # the network ignores it
  else:
    class_ids = [spec.classes[i % len(spec.classes)] for i in range(batch)]
    cond = spec.conditional_input(class_ids)
    cond_t = tf.constant(cond)
  start = time.time()
  exact = dist.sample(batch, seed=seed, conditional_input=cond).numpy()
  sample_seconds = time.time() - start
  redraw = redraw_all(dist, seed, batch)
  # Teacher forcing: the full network's redraw of the exact sample.
  redrawn = redraw(exact, cond_t).numpy()
  tipped = int(np.sum(np.any(redrawn != exact, axis=-1)))
  result = dict(
      model=name,
      batch=batch,
      seed=seed,
      height=h,
      width=w,
      sample_seconds=round(sample_seconds, 2),
      exact_sample_pixels_redrawn_differently=tipped,
      inits={},
  )
  fixed_points = {}
  for init in INITS:
    start = time.time()
    images, k = jacobi_rows(redraw, cond_t, (batch, h, w, c), init)
    seconds = time.time() - start
    residual = int(
        np.sum(np.any(redraw(images, cond_t).numpy() != images, axis=-1))
    )
    equal_pixels = np.all(images == exact, axis=-1)
    fixed_points[init] = images
    stats = summarize(k, w)
    stats.update(
        seconds=round(seconds, 1),
        network_passes=int(k.max(1).sum()),
        fixed_point_residual_pixels=residual,
        equal_pixel_fraction=round(float(equal_pixels.mean()), 6),
        equal_images=int(np.sum(np.all(equal_pixels, axis=(1, 2)))),
        k_per_row_batch=k.max(1).tolist(),
        k=k.tolist(),  # [H, B]
    )
    result["inits"][init] = stats
  result["fixed_points_agree"] = bool(
      np.array_equal(*(fixed_points[i] for i in INITS))
  )
  return result


# ---------------------------------------------------------------------------
# Report.


def environment():
  import tensorflow as tf
  import tensorflow_probability as tfp

  cpu = platform.processor() or platform.machine()
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          cpu = line.split(":", 1)[1].strip()
          break
  except OSError:
    pass
  return dict(
      date=time.strftime("%Y-%m-%d"),
      tensorflow=tf.__version__,
      tfp=tfp.__version__,
      cpu=cpu,
      cores=os.cpu_count(),
  )


def _histogram(hist):
  return ", ".join(f"{k}:{n}" for k, n in hist.items())


def markdown(meta, models, results, command):
  lines = [
      f"{meta['date']}, TF {meta['tensorflow']}, TFP {meta['tfp']}, CPU "
      f"({meta['cpu']}, {meta['cores']} cores)",
      f"Command: `{command}`",
      "",
      "Jacobi iteration per image row on trained models: the passes `k` a "
      "row needs until a pass changes nothing (at most W; a row that takes "
      "all W passes is exact without a confirming pass). Every pass here is "
      "a full network pass; a row-parallel cached program would make one "
      "row-wide pass of the horizontal stack instead. Per image: each image "
      "stops on its own; per batch: the max over the batch, which a batched "
      "program runs. Steps per image: the sum of the batch's `k` over the "
      "rows, against H x W for the pixel-by-pixel program.",
      "",
      "| model | trained | held-out bits/dim |",
      "|---|---|---|",
  ]
  for name, info in models.items():
    h, w, _ = info["image_shape"]
    m = info["model"]
    lines.append(
        f"| {name} ({h}x{w}, 0..{info['high']}; {m['num_resnet']} resnet, "
        f"{m['num_hierarchies']} levels, {m['num_filters']} filters, "
        f"{m['num_logistic_mix']} logistics) | {info['epochs']} epochs | "
        f"{info['heldout_bits_per_dim']:.3f} |"
    )
  lines += [
      "",
      "| model | batch | guess | mean k per image | W / mean k per image | "
      "mean k per batch | W / mean k per batch | median, max k per batch | "
      "steps per image (H x W) | pixels equal to `sample` |",
      "|---|---|---|---|---|---|---|---|---|---|",
  ]
  for r in results:
    for init, s in r["inits"].items():
      pi, pb = s["per_image"], s["per_batch"]
      lines.append(
          f"| {r['model']} | {r['batch']} | {init.replace('_', ' ')} | "
          f"{pi['mean']:.2f} | {pi['w_over_mean_k']:.2f} | {pb['mean']:.2f} "
          f"| {pb['w_over_mean_k']:.2f} | {pb['median']:g}, {pb['max']} | "
          f"{s['steps_per_image']} ({r['height'] * r['width']}) | "
          f"{100 * s['equal_pixel_fraction']:.2f}% "
          f"({s['equal_images']}/{r['batch']} images) |"
      )
  sizes = sorted(
      {
          int(n)
          for r in results
          for s in r["inits"].values()
          for n in s["by_batch_size"]
      }
  )
  lines += [
      "",
      "By batch size (batches of consecutive images of the one drawn: an "
      "image's k does not depend on the rest of its batch), W / mean k and "
      "the steps per image:",
      "",
      "| model | guess | " + " | ".join(f"batch {n}" for n in sizes) + " |",
      "|---|---|" + "---|" * len(sizes),
  ]
  for r in results:
    for init, s in r["inits"].items():
      cells = []
      for n in sizes:
        entry = s["by_batch_size"].get(str(n))
        cells.append(
            "-"
            if entry is None
            else f"{entry['w_over_mean_k']:.2f} ({entry['steps_per_image']:g})"
        )
      lines.append(
          f"| {r['model']} | {init.replace('_', ' ')} | "
          + " | ".join(cells)
          + " |"
      )
  lines += ["", "Histograms of k (k: rows):", ""]
  for r in results:
    for init, s in r["inits"].items():
      lines.append(
          f"* {r['model']}, {init.replace('_', ' ')}: per image "
          f"{_histogram(s['per_image']['histogram'])}; per batch "
          f"{_histogram(s['per_batch']['histogram'])}; batch k by row "
          f"{s['k_per_row_batch']}"
      )
  if "digits28" in models:
    lines += [
        "",
        "digits28's nearest-neighbour upsampling repeats every input row 3 "
        "or 4 times, so its model learns to copy the row above, and the "
        "row-above guess is right more often there than it would be on "
        "drawings; strokes28 has no such rows.",
    ]
  lines += ["", "Checks:", ""]
  for r in results:
    residuals = [s["fixed_point_residual_pixels"] for s in r["inits"].values()]
    lines.append(
        f"* {r['model']}: the Jacobi images are fixed points of the full "
        f"network's redraw ({sum(residuals)} pixels off); both guesses reach "
        f"the same images: {r['fixed_points_agree']}; the full network "
        f"redraws {r['exact_sample_pixels_redrawn_differently']} of the "
        f"{r['batch'] * r['height'] * r['width']} pixels of `dist.sample`'s "
        f"images differently (float rounding of the cached generator against "
        f"the full network; one such pixel changes the rest of its image)."
    )
  return "\n".join(lines) + "\n"


def add_model_arguments(parser, work_dir_help, models_nargs):
  """The trained models' flags (also `jacobi_kernels.py`'s): where their
  runs are cached, which models, the seed and each model's epochs."""
  parser.add_argument(
      "--work_dir",
      default=os.path.join("/tmp", "jacobi_rows"),
      help=work_dir_help,
  )
  parser.add_argument(
      "--models", nargs=models_nargs, default=list(MODELS), choices=MODELS
  )
  parser.add_argument("--seed", type=int, default=1)
  for name, epochs in EPOCHS.items():
    parser.add_argument(f"--{name}_epochs", type=int, default=epochs)


def check_model_arguments(parser, args):
  """`parser.error` for an epoch count below 1."""
  for name in EPOCHS:
    epochs = getattr(args, f"{name}_epochs")
    if epochs < 1:
      parser.error(f"--{name}_epochs: expected >= 1, got {epochs}")


def main(argv=None):
  parser = argparse.ArgumentParser(
      description=__doc__.split("\n\n")[0],
      formatter_class=argparse.RawDescriptionHelpFormatter,
  )
  add_model_arguments(
      parser, "trained runs and the 28x28 PNGs are cached here", "+"
  )
  parser.add_argument("--batch", type=int, default=16)
  parser.add_argument("--verbose", type=int, default=2, choices=[0, 1, 2])
  parser.add_argument(
      "--out", default=None, help="markdown report (and a .json beside it)"
  )
  args = parser.parse_args(argv)
  check_model_arguments(parser, args)
  if args.batch < 1:
    parser.error(f"--batch: expected >= 1, got {args.batch}")

  models, results = {}, []
  for name in args.models:
    epochs = getattr(args, f"{name}_epochs")
    dist, spec, info = trained_model(name, args.work_dir, epochs, args.verbose)
    models[name] = info
    print(f"{name}: {json.dumps(info)}", flush=True)
    result = measure(name, dist, spec, args.batch, args.seed)
    results.append(result)
    summary = {
        init: dict(
            per_image=s["per_image"]["w_over_mean_k"],
            per_batch=s["per_batch"]["w_over_mean_k"],
            steps=s["steps_per_image"],
            equal=s["equal_pixel_fraction"],
        )
        for init, s in result["inits"].items()
    }
    print(f"{name}: W / mean k {json.dumps(summary)}", flush=True)

  command = "python benchmarks/jacobi_rows.py " + " ".join(
      a for a in (argv if argv is not None else sys.argv[1:])
  )
  meta = environment()
  text = markdown(meta, models, results, command.strip())
  print(text)
  if args.out:
    with open(args.out, "w") as f:
      f.write(text)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
      json.dump(dict(meta=meta, models=models, results=results), f, indent=1)
  return 0


if __name__ == "__main__":
  sys.exit(main())
