"""Image grids: samples, completions and real images tiled into one PNG.

`sample_grid` and `completion_grid` draw from a distribution (a
`FastPixelCNN`, or anything with its `sample` / `complete`); `make_grid` and
`compare_grid` tile images; `write_png` writes the result with
`tf.io.encode_png` only (no plotting library).

Example:

  samples, seconds = grid.sample_grid(dist, spec, class_ids=[3, 7], n=8)
  tiles = grid.to_uint8(samples, spec.low, spec.high)  # [2, 8, H, W, C]
  grid.write_png("samples.png", grid.make_grid(tiles, zoom=4))
"""

import os
import time
from typing import Optional, Sequence

import numpy as np
import tensorflow as tf


def to_uint8(images, low: float = 0, high: float = 255) -> np.ndarray:
  """Maps pixel values in `[low, high]` to uint8 `[0, 255]`.

  Args:
    images: array `[..., H, W, C]`.
    low, high: the model's pixel range (`high=16` for digits).

  Returns:
    uint8 array of the same shape.
  """
  if not high > low:
    raise ValueError(f"high: expected high > low, got high={high}, low={low}")
  x = (np.asarray(images, np.float64) - low) * (255.0 / (high - low))
  return np.clip(np.round(x), 0, 255).astype(np.uint8)


def make_grid(
    images,
    ncols: Optional[int] = None,
    pad: int = 1,
    pad_value: int = 128,
    zoom: int = 1,
) -> np.ndarray:
  """Tiles uint8 images into one image.

  Args:
    images: uint8 array `[N, H, W, C]` or `[R, K, H, W, C]` (R rows of K).
    ncols: columns for `[N, ...]` input (default `ceil(sqrt(N))`).
    pad: pixels between tiles (and around the border).
    pad_value: gray level of the padding.
    zoom: nearest-neighbour upscaling factor per tile (8x8 digits are tiny).

  Returns:
    uint8 array `[R*(H*zoom+pad)+pad, K*(W*zoom+pad)+pad, C]`.
  """
  images = np.asarray(images)
  if images.dtype != np.uint8:
    raise TypeError(
        f"images: expected uint8 (see to_uint8), got {images.dtype}"
    )
  if images.ndim == 4:
    n = images.shape[0]
    if n == 0:
      raise ValueError("images: empty")
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = -(-n // ncols)
    blank = np.full(
        (nrows * ncols - n,) + images.shape[1:], pad_value, np.uint8
    )
    images = np.concatenate([images, blank]).reshape(
        (nrows, ncols) + images.shape[1:]
    )
  if images.ndim != 5:
    raise ValueError(
        f"images: expected [N, H, W, C] or [R, K, H, W, C], got "
        f"shape {images.shape}"
    )
  if zoom < 1 or pad < 0:
    raise ValueError(
        f"zoom: expected >= 1 and pad >= 0, got zoom={zoom}, " f"pad={pad}"
    )
  images = images.repeat(zoom, axis=2).repeat(zoom, axis=3)
  rows, cols, h, w, c = images.shape
  out = np.full(
      (rows * (h + pad) + pad, cols * (w + pad) + pad, c), pad_value, np.uint8
  )
  for r in range(rows):
    for k in range(cols):
      y, x = pad + r * (h + pad), pad + k * (w + pad)
      out[y : y + h, x : x + w] = images[r, k]
  return out


def compare_grid(
    real,
    generated,
    low: float = 0,
    high: float = 255,
    zoom: int = 1,
    gap: int = 3,
) -> np.ndarray:
  """Real images (top row) over generated ones (bottom row), per class.

  Args:
    real: `[G, K, H, W, C]` (G groups, e.g. classes, of K images) or
      `[K, H, W, C]` for one group; values in `[low, high]`.
    generated: same shape as `real`.

  Returns:
    uint8 grid with 2*G rows of K images: for each group, real then
    generated; groups are separated by `gap` extra pixels of padding.
  """
  real, generated = np.asarray(real), np.asarray(generated)
  if real.shape != generated.shape:
    raise ValueError(
        f"generated: shape {generated.shape} differs from real's "
        f"{real.shape}"
    )
  if real.ndim == 4:
    real, generated = real[None], generated[None]
  if real.ndim != 5:
    raise ValueError(
        f"real: expected [G, K, H, W, C] or [K, H, W, C], got "
        f"shape {real.shape}"
    )
  blocks = [
      make_grid(to_uint8(np.stack([r, g]), low, high), zoom=zoom)
      for r, g in zip(real, generated)
  ]
  spacer = np.full((gap,) + blocks[0].shape[1:], 128, np.uint8)
  parts = [blocks[0]]
  for block in blocks[1:]:
    parts += [spacer, block]
  return np.concatenate(parts)


def write_png(path: str, grid) -> str:
  """Writes a uint8 `[H, W, C]` array (C = 1, 3 or 4) as a PNG; returns path."""
  grid = np.asarray(grid)
  if (
      grid.dtype != np.uint8
      or grid.ndim != 3
      or grid.shape[-1] not in (1, 3, 4)
  ):
    raise ValueError(
        f"grid: expected uint8 [H, W, 1|3|4], got {grid.dtype} " f"{grid.shape}"
    )
  parent = os.path.dirname(os.path.abspath(path))
  os.makedirs(parent, exist_ok=True)
  tf.io.write_file(path, tf.io.encode_png(grid))
  return path


def default_zoom(image_shape) -> int:
  """The upscaling per tile that makes tiles about 64 pixels (at least 1).

  Args:
    image_shape: `(H, W, C)` of the images.
  """
  return max(1, 64 // max(image_shape[:2]))


def sample_grid(
    dist,
    spec,
    class_ids: Optional[Sequence[int]],
    n: int,
    seed=0,
    progress: bool = False,
):
  """Samples `n` images per class with `dist.sample`, timed.

  Args:
    dist: a `FastPixelCNN` (or anything with its `sample(n, seed=,
      conditional_input=, progress=)`).
    spec: the run's `tfp_fastpixel.data.DataSpec`; it turns class ids into
      the model's `conditional_input`.
    class_ids: the `G` classes to draw, or None for an unconditional model
      (then `G = 1`).
    n: images per class.
    seed: the sampling seed.
    progress: show `dist.sample`'s progress bar over image rows.

  Returns:
    `(samples, seconds)`: float `[G, n, H, W, C]` in `[spec.low, spec.high]`,
    and the wall time of the `dist.sample` call.
  """
  if class_ids is None:  # Unconditional.
    start = time.time()
    samples = dist.sample(n, seed=seed, progress=progress)
    samples = tf.convert_to_tensor(samples).numpy()
    return samples[None], time.time() - start
  cond = spec.conditional_input(np.repeat(class_ids, n))
  start = time.time()
  samples = dist.sample(
      len(cond), conditional_input=cond, seed=seed, progress=progress
  )
  samples = tf.convert_to_tensor(samples).numpy()
  seconds = time.time() - start
  return samples.reshape((len(class_ids), n) + samples.shape[1:]), seconds


def completion_grid(
    dist,
    spec,
    images,
    class_ids: Optional[Sequence[int]],
    rows: int,
    samples: int,
    seed=0,
    progress: bool = False,
    zoom: int = 1,
) -> np.ndarray:
  """Originals, masked inputs and completions, one image per grid row.

  Args:
    dist: a `FastPixelCNN` (its `complete` draws the completions).
    spec: the run's `tfp_fastpixel.data.DataSpec`.
    images: `[B, H, W, C]` real images, values in `[spec.low, spec.high]`.
    class_ids: the `B` images' classes, or None for an unconditional model.
    rows: image rows observed; the rest is drawn.
    samples: completions per image.
    seed: the sampling seed.
    progress: show `dist.complete`'s progress bar over image rows.
    zoom: upscaling per tile.

  Returns:
    uint8 grid of `B` rows: per image, [original, masked (unobserved rows
    gray), completion 1..samples].
  """
  _, w = spec.image_shape[:2]
  cond = (
      None
      if class_ids is None
      else spec.conditional_input(np.asarray(class_ids))
  )
  out = dist.complete(
      images,
      rows * w,
      sample_shape=samples,
      seed=seed,
      conditional_input=cond,
      progress=progress,
  )
  out = np.moveaxis(np.asarray(out), 0, 1)  # [B, S, H, W, C]
  masked = np.array(images, np.float32)
  masked[:, rows:] = spec.low
  gray = to_uint8(masked, spec.low, spec.high)
  gray[:, rows:] = 128  # unobserved
  tiles = np.concatenate(
      [
          to_uint8(images, spec.low, spec.high)[:, None],
          gray[:, None],
          to_uint8(out, spec.low, spec.high),
      ],
      axis=1,
  )
  return make_grid(tiles, zoom=zoom)
