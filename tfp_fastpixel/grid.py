"""Image grids as PNG files, with `tf.io.encode_png` only (no plotting)."""

import os
from typing import Optional

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
