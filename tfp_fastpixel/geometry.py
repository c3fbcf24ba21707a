"""Where each masked convolution of TFP's PixelCNN reads its inputs.

Every fact about kernel taps, 'same' padding, strides and masks is derived
here, from the Keras layers themselves, so the sampler never restates TFP's
geometry. The cached layers only ask two questions of a convolution:

* which kernel row reads the *previous* row of its input (computed once per
  row, for the whole width), and which reads the *current* row;
* on the current row, which recent input columns each kernel column reads.

Indices. A layer maps output index `o` (per axis) to input indices
`base(o) + d`: `base(o) = stride * o` for a convolution and `o // 2` for a
stride-2 transposed convolution, whose taps also depend on the output's
*phase* `o % 2`. Offsets `d` are relative to the newest input that exists
when output `o` is computed, so `d <= 0` always; `lag = 1` shifts that for
the image itself, whose pixel `o` is sampled only after the network has run
at `o`.
"""

import dataclasses

import numpy as np
import tf_keras


@dataclasses.dataclass(frozen=True)
class AxisTaps:
  """Taps of one kernel axis.

  Attributes:
    phases: tuple over output phases; each a tuple of `(kernel_index, d)`
      pairs: output `o` of that phase reads input `base(o) + d`.
    in_per_out: input positions per output position along this axis
      (2 for a stride-2 convolution, 1/2 for a transposed one).
  """

  phases: tuple
  in_per_out: float


def axis_taps(kernel_len, stride, transposed, in_len):
  """Taps of one axis of a `padding='same'` (transposed) convolution.

  TF pads 'same' convolutions by `pad_total = max((out - 1) * s + k - in, 0)`
  with `pad_total // 2` before; a transposed convolution is the gradient of
  such a convolution from `2 * in` outputs to `in` inputs.
  """
  if transposed:
    pad = max((in_len - 1) * stride + kernel_len - in_len * stride, 0) // 2
    # Output o = 2 * i - pad + a receives input i through tap a.
    phases = tuple(
        tuple(
            (a, (q + pad - a) // 2)
            for a in range(kernel_len)
            if (q + pad - a) % 2 == 0
        )
        for q in range(stride)
    )
    return AxisTaps(phases, 1.0 / stride)
  pad, _ = same_padding(kernel_len, stride, in_len)
  # Output o reads input stride * o - pad + a through tap a.
  return AxisTaps(
      (tuple((a, a - pad) for a in range(kernel_len)),), float(stride)
  )


def same_padding(kernel_len, stride, in_len):
  """(before, after): TF's 'same' padding of one axis of a convolution."""
  out_len = -(-in_len // stride)
  total = max((out_len - 1) * stride + kernel_len - in_len, 0)
  return total // 2, total - total // 2


def kernel_mask(conv_layer):
  """The [kh, kw] boolean mask TFP's kernel constraint keeps (all if none)."""
  kh, kw = conv_layer.kernel_size
  constraint = conv_layer.kernel_constraint
  if constraint is None:
    return np.ones((kh, kw), bool)
  kernel_shape = [kh, kw, 1, 1]
  return np.asarray(constraint(np.ones(kernel_shape)))[:, :, 0, 0] != 0


@dataclasses.dataclass(frozen=True)
class ConvGeometry:
  """Which past inputs one masked convolution reads.

  Attributes:
    name: the Keras layer's name, for error messages.
    transposed, stride: the layer's kind.
    row_taps: per output-row phase, `(kernel_row, offset, rel)` for the
      kernel rows the mask keeps. `offset <= 0` counts input rows back from
      the newest one that exists when the output row is computed; `rel`
      measures the same distance on the finer grid, from the output row.
    col_taps: per output-column phase, `(kernel_col, offset, rel)` likewise.
    mask: the [kh, kw] boolean mask.
    in_per_out: input positions per output position (2, 1 or 1/2).
    col_padding: 'same' padding (before, after) of the columns (None if
      transposed).
  """

  name: str
  transposed: bool
  stride: int
  row_taps: tuple
  col_taps: tuple
  mask: np.ndarray
  in_per_out: float
  col_padding: tuple = None

  def contiguous_rows(self, row_phase):
    """First kernel row if this phase's taps read the whole row cache in
    order (one kernel row per cached row, oldest first), else None: then
    one convolution over the cache computes the output row."""
    taps = self.row_taps[row_phase]
    window = self.row_window
    if self.transposed or len(taps) != window:
      return None
    first = taps[0][0]
    expected = [(first + r, r - window + 1) for r in range(window)]
    return first if [(a, off) for a, off, _ in taps] == expected else None

  @property
  def row_window(self):
    """Recent input rows a row-at-a-time layer must keep."""
    offsets = [off for taps in self.row_taps for _, off, _ in taps]
    if max(offsets) > 0:
      raise ValueError(
          f"{self.name}: reads a row not generated yet; the "
          "autoregressive masks do not hold."
      )
    return 1 - min(offsets)

  def pixel_split(self):
    """Splits the taps for a pixel-at-a-time layer.

    Returns:
      prev_row: per row phase, the kernel row that reads the latest completed
        input row, or None. It is computed once per row, for the whole width.
      cur_row: per row phase, the kernel row that reads the input row being
        generated, or None.
      cur_cols: per column phase, `(kernel_col, offset)` of the current row.

    Raises:
      ValueError: if the layer reads older rows than the latest completed
        one, or several kernel rows per row kind (not TFP's geometry).
    """
    latest = 1 if self.in_per_out >= 1 else 2  # finer-grid distance
    prev_row, cur_row = [], []
    for taps in self.row_taps:
      prev = [a for a, _, rel in taps if -latest <= rel < 0]
      cur = [a for a, _, rel in taps if rel == 0]
      if len(prev) > 1 or len(cur) > 1 or len(prev) + len(cur) < len(taps):
        raise ValueError(f"{self.name}: reads rows a pixel-wise cache lacks.")
      prev_row.append(prev[0] if prev else None)
      cur_row.append(cur[0] if cur else None)
    cur_rows = [a for a in cur_row if a is not None]
    cur_cols = tuple(
        tuple(
            (b, off)
            for b, off, _ in taps
            if any(self.mask[a, b] for a in cur_rows)
        )
        for taps in self.col_taps
    )
    if any(off > 0 for taps in cur_cols for _, off in taps):
      raise ValueError(
          f"{self.name}: reads a pixel not generated yet; the "
          "autoregressive masks do not hold."
      )
    return tuple(prev_row), tuple(cur_row), cur_cols

  @property
  def col_window(self):
    """Recent current-row inputs a pixel-at-a-time layer must keep."""
    _, _, cur_cols = self.pixel_split()
    return 1 - min([off for taps in cur_cols for _, off in taps] + [1])


def conv_geometry(conv_layer, in_height, in_width, lag=0):
  """Derives a ConvGeometry from a Keras Conv2D/Conv2DTranspose of TFP's net.

  Args:
    conv_layer: the (unwrapped) `tf_keras` convolution.
    in_height, in_width: the spatial size of its input.
    lag: 1 if the input is the image being sampled (its current pixel does
      not exist yet when the network runs there), else 0.

  Raises:
    ValueError: if the mask lets the layer read an input that does not exist
      yet when its output is needed.
  """
  if conv_layer.padding != "same":
    raise ValueError(f'{conv_layer.name}: expected padding="same".')
  transposed = isinstance(conv_layer, tf_keras.layers.Conv2DTranspose)
  stride = conv_layer.strides[0]
  kh, kw = conv_layer.kernel_size
  mask = kernel_mask(conv_layer)
  row_axis = axis_taps(kh, stride, transposed, in_height)
  col_axis = axis_taps(kw, stride, transposed, in_width)

  def classify(axis, live):
    phases = []
    for q, taps in enumerate(axis.phases):
      kept = []
      for a, d in taps:
        if not live(a):
          continue
        # On the finer grid: an input at `base + d` lies `rel` before the
        # output (conv: input grid is finer; transposed: output grid is).
        rel = d if axis.in_per_out >= 1 else 2 * d - q
        kept.append((a, d + lag, rel))  # offset: back from the newest input
      phases.append(tuple(kept))
    return tuple(phases)

  return ConvGeometry(
      name=conv_layer.name,
      transposed=transposed,
      stride=stride,
      row_taps=classify(row_axis, lambda a: mask[a].any()),
      col_taps=classify(col_axis, lambda b: mask[:, b].any()),
      mask=mask,
      in_per_out=row_axis.in_per_out,
      col_padding=None if transposed else same_padding(kw, stride, in_width),
  )
