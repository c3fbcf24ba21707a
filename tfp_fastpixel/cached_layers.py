"""TFP's masked convolutions, evaluated incrementally with small caches.

Two kinds, after the two stacks of the PixelCNN:

* `RowConv` (vertical stack): computes one output row, for the whole width,
  from a cache of its input's last few rows.
* `PixelConv` (horizontal stack): computes one output pixel. Its kernel reads
  at most two input rows: the latest *completed* one, whose contribution
  (`row_term`) is computed once per output row for the whole width, and the
  row being generated, whose few taps (`pixel_term`) read a cache of the
  last few inputs on that row.

Which kernel taps read which cached entry is derived in `geometry`. The
layers here are static descriptions: `read_weights()` returns the tensors
they compute with, and every method takes those weights and its cache as
arguments and returns new values. Nothing is stored on the objects while
tracing, so one description serves graph mode, XLA and every retrace.
"""

import tensorflow as tf

from tfp_fastpixel import geometry
from tfp_fastpixel import network


def _row_conv(row, kernel_row, stride, transposed):
  """Applies one kernel row to one input row, over the whole width.

  Args:
    row: [B, W_in, C_in].
    kernel_row: [1, kw, C_in, C_out] ([1, kw, C_out, C_in] if transposed),
      a one-row kernel.
    stride: the layer's column stride.
    transposed: whether the layer is a Conv2DTranspose.

  Returns:
    [B, W_out, C_out]. Column padding is TF's 'same' for the full layer,
    since 'same' pads each axis on its own.
  """
  # expand_dims/squeeze rather than indexing: each strided slice costs
  # four graph ops to trace, and tracing is a large part of a new model's
  # first call.
  x = tf.expand_dims(row, 1)
  strides = [1, 1, stride, 1]
  if transposed:
    out_shape = tf.stack(
        [tf.shape(row)[0], 1, stride * row.shape[1], kernel_row.shape[2]]
    )
    y = tf.nn.conv2d_transpose(
        x, kernel_row, out_shape, strides, padding="SAME"
    )
  else:
    y = tf.nn.conv2d(x, kernel_row, strides, padding="SAME")
  return tf.squeeze(y, 1)


class _CachedConv:
  """What both kinds share: the layer, its geometry and channel counts."""

  def __init__(self, layer, in_height, in_width, lag=0):
    inner = network.unwrap(layer)
    self.layer = layer
    self.name = inner.name
    self.geometry = geometry.conv_geometry(inner, in_height, in_width, lag)
    self.in_width = in_width
    self.out_width = (
        in_width * 2
        if self.geometry.transposed
        else -(-in_width // self.geometry.stride)
    )
    shape = network.kernel_shape(layer)  # [kh, kw, in, out] or [.., out, in]
    self.in_channels, self.out_channels = (
        (shape[3], shape[2])
        if self.geometry.transposed
        else (shape[2], shape[3])
    )

  def _read(self):
    """The current kernel `[kh, kw, ...]`; and the bias and rows, as tensors.

    Read once per call, outside the loops, so that no loop body reads a
    variable or slices a kernel. The weights (second result) hold only what
    the loops compute with: they are the compiled core's arguments, and
    passing every form of every kernel made half of QuickDraw's 1,308
    unused.
    """
    kernel, bias = network.kernel_and_bias(self.layer)
    kernel = tf.convert_to_tensor(kernel)
    rows = tf.split(kernel, kernel.shape[0])
    return kernel, {
        # [1, kw, ...] each: a one-row kernel for `_row_conv`, by index.
        "rows": {r: rows[r] for r in sorted(self._rows_read())},
        "bias": tf.convert_to_tensor(bias),
    }

  def _row(self, weights, row, kernel_row):
    return _row_conv(
        row,
        weights["rows"][kernel_row],
        self.geometry.stride,
        self.geometry.transposed,
    )


class RowConv(_CachedConv):
  """A vertical-stack convolution, one output row at a time.

  Cache: `[B, row_window, W_in, C_in]`, the input's newest rows (newest
  last). It starts as zeros, which is exactly the 'same' padding above the
  image. `push` adds an input row when it is computed (for the image: once
  sampled).
  """

  @property
  def window(self):
    return self.geometry.row_window

  def empty_cache(self, batch, dtype):
    return tf.zeros(
        [batch, self.window, self.in_width, self.in_channels], dtype
    )

  def push(self, cache, row):
    # Unstack and stack take no constant inputs: two ops to trace, where a
    # slice, an expand_dims and a concat take eight.
    return tf.stack(tf.unstack(cache, axis=1)[1:] + [row], axis=1)

  def _rows_read(self):  # by the phases that cannot use `fused`
    return {
        kernel_row
        for phase, taps in enumerate(self.geometry.row_taps)
        if self.geometry.contiguous_rows(phase) is None
        for kernel_row, _, _ in taps
    }

  def read_weights(self):
    """The bias, and per row phase the kernel rows that read the cache in
    order (`fused`, one convolution over the whole cache) or, where they do
    not, the rows that `__call__` applies one by one (`rows`)."""
    kernel, weights = self._read()
    weights["fused"] = []
    height = kernel.shape[0]
    for phase in range(len(self.geometry.row_taps)):
      first = self.geometry.contiguous_rows(phase)
      if first is None:
        fused = None
      elif first == 0 and self.window == height:
        fused = kernel  # no op to trace
      else:
        fused = tf.split(
            kernel, [first, self.window, height - first - self.window]
        )[1]
      weights["fused"].append(fused)
    return weights

  def __call__(self, weights, cache, row_phase):
    """Output row of the given phase (output row index mod 2), [B, W, C_out].

    `row_phase` is a Python int: the generator knows it statically.
    """
    fused = weights["fused"][row_phase]
    if fused is not None:  # one 'valid' convolution down the cached rows
      before, after = self.geometry.col_padding
      out = tf.nn.conv2d(
          cache,
          fused,
          [1, 1, self.geometry.stride, 1],
          padding=[[0, 0], [0, 0], [before, after], [0, 0]],
      )
      return tf.squeeze(out, 1) + weights["bias"]
    out = weights["bias"]
    for kernel_row, offset, _ in self.geometry.row_taps[row_phase]:
      out = out + self._row(
          weights, cache[:, self.window - 1 + offset], kernel_row
      )
    return out


class PixelConv(_CachedConv):
  """A horizontal-stack convolution, one output pixel at a time.

  Cache: `[B, col_window * C_in]`, the newest inputs on the input row being
  generated, flattened (newest last; zeros left of the image, as 'same'
  padding). Flat, so that a push is one slice and one concat and the taps
  are one matmul. The latest completed input row is kept, for all pixel
  convolutions of a level together, by the generator. A program's layout
  (`layouts`) may instead carry partial sums, from the taps by input
  column (`read_slot_taps`).
  """

  def __init__(self, layer, in_height, in_width, lag=0):
    super().__init__(layer, in_height, in_width, lag)
    self.prev_row, self.cur_row, self.cur_cols = self.geometry.pixel_split()
    self.window = self.geometry.col_window
    # One row phase, one column phase and taps on the current row: each
    # input can be multiplied by all its taps at once, so a layout may
    # carry partial sums instead of inputs (`layouts`).
    self.can_carry = (
        not self.geometry.transposed
        and lag == 0
        and self.geometry.stride == 1
        and self.window > 0
    )

  def has_current_taps(self, row_phase):
    """Whether any kernel tap reads the row being generated in this phase."""
    return (
        row_phase < len(self.cur_row)
        and self.cur_row[row_phase] is not None
        and any(self.cur_cols)
    )

  def read_weights(self):
    """The bias, `rows` (`row_term`'s) and the current-row taps.

    `current`: per row phase, the current-row taps as one matrix. Each
    entry is `[window * C_in, C_out]` when there is one column phase,
    `[2, window * C_in, C_out]` when the taps depend on the output column's
    parity (transposed), or None when the row phase has no current taps.
    """
    kernel, weights = self._read()
    taps = self._taps(kernel)
    current = []
    for qr in range(len(self.cur_row)):
      per_col = [
          self._current_row_blocks(taps, qr, qc)
          for qc in range(len(self.cur_cols))
      ]
      if all(b is None for b in per_col):
        current.append(None)
        continue
      per_col = [
          None if b is None else tf.concat(self._zeros_for_missing(b), 0)
          for b in per_col
      ]
      if any(m is None for m in per_col):  # a column phase without taps
        some = next(m for m in per_col if m is not None)
        per_col = [
            tf.raw_ops.ZerosLike(x=some) if m is None else m for m in per_col
        ]
      current.append(per_col[0] if len(per_col) == 1 else tf.stack(per_col))
    weights["current"] = current
    return weights

  def read_slot_taps(self):
    """For a convolution that `can_carry`: its weights less `current`, and
    the current-row taps by input column, `[C_in, C_out]` each.

    Block d holds the taps of the input d columns before the output (d = 0:
    the current one). The layout that carries sums decides how to multiply
    by them; `current` is left out, since the loops would not read it.
    """
    if not self.can_carry:
      raise ValueError(f"{self.name}: cannot carry partial sums.")
    kernel, weights = self._read()
    blocks = self._current_row_blocks(self._taps(kernel), 0, 0)
    return weights, self._zeros_for_missing(blocks)[::-1]

  def _rows_read(self):  # by `row_term`
    return {r for r in self.prev_row if r is not None}

  def empty_cache(self, batch, dtype):
    """Zeros: the flat input cache."""
    return tf.zeros([batch, self.window * self.in_channels], dtype)

  def push(self, cache, value):
    """Appends `value` [B, C_in] to the flat cache, dropping the oldest."""
    if self.window == 0:
      return cache
    if self.window == 1:
      return value
    return tf.concat([cache[:, self.in_channels :], value], axis=1)

  def row_term(self, weights, prev_row, row_phase):
    """Bias plus the previous-row taps, for every output column.

    Args:
      weights: `read_weights()`.
      prev_row: [B, W_in, C_in], the latest completed input row (zeros
        above the image).
      row_phase: output row index mod 2 (0 unless transposed), a Python int.

    Returns:
      [B, W_out, C_out] (the bias broadcast where no kernel row reads the
      previous row in this phase, so that every phase has one shape).
    """
    kernel_row = self.prev_row[row_phase]
    if kernel_row is None:
      shape = [tf.shape(prev_row)[0], self.out_width, self.out_channels]
      return tf.broadcast_to(weights["bias"], shape)
    return self._row(weights, prev_row, kernel_row) + weights["bias"]

  @staticmethod
  def pixel_term(matrix, cache, col_phase=None):
    """The current-row taps at one output pixel: [B, C_out], or None.

    Args:
      matrix: one row phase's entry of `read_weights()['current']`.
      cache: the flat input cache.
      col_phase: a scalar tensor, the output column's parity; needed only
        where the taps depend on it (`matrix` of rank 3).
    """
    if matrix is None:
      return None
    if matrix.shape.rank == 3:
      matrix = tf.gather(matrix, col_phase)
    return tf.matmul(cache, matrix)

  def _taps(self, kernel):
    """`taps[row][col]`: the kernel's taps, each `[C_in, C_out]`.

    Unstacked (an op without constant inputs) rather than indexed: each
    strided slice traces four graph ops, and tracing is a large part of a
    new model's first call. Rows without current-row taps stay unread.
    """
    if self.geometry.transposed:  # [.., C_out, C_in] -> [.., C_in, C_out]
      kernel = tf.transpose(kernel, [0, 1, 3, 2])
    rows = tf.unstack(kernel)
    return {r: tf.unstack(rows[r]) for r in set(self.cur_row) if r is not None}

  def _current_row_blocks(self, taps, row_phase, col_phase):
    """Per cache slot (oldest first), its `[C_in, C_out]` tap or None; or
    None when this phase reads no tap of the current row."""
    kernel_row = self.cur_row[row_phase]
    by_slot = dict(
        (self.window - 1 + off, b) for b, off in self.cur_cols[col_phase]
    )
    if kernel_row is None or not by_slot:
      return None
    return [
        taps[kernel_row][by_slot[slot]] if slot in by_slot else None
        for slot in range(self.window)
    ]

  @staticmethod
  def _zeros_for_missing(blocks):
    """`blocks` with zeros (one tensor) for the slots no tap reads."""
    if all(b is not None for b in blocks):
      return blocks
    zeros = tf.raw_ops.ZerosLike(x=next(b for b in blocks if b is not None))
    return [zeros if b is None else b for b in blocks]


class Dense:
  """A Dense layer of TFP's net, applied to the last axis."""

  def __init__(self, layer):
    self.layer = layer
    self.name = network.unwrap(layer).name

  def read_weights(self):
    kernel, bias = network.kernel_and_bias(self.layer)
    return {
        "kernel": tf.convert_to_tensor(kernel),
        "bias": tf.convert_to_tensor(bias),
    }

  @staticmethod
  def apply(weights, x, kernel=None):
    kernel = weights["kernel"] if kernel is None else kernel
    # matmul broadcasts the kernel over x's leading axes: one op to trace
    # (tensordot traces about twenty), which XLA's bridge lowers directly
    # (it lowers einsum through an MLIR pipeline per op, ~10 ms each).
    return tf.matmul(x, kernel) + weights["bias"]

  @staticmethod
  def split_concat_input(kernel, activation):
    """Kernels for `act(concat([a, b]))`'s two halves: `(k_a, k_b)`.

    TFP's up-path horizontal blocks apply this Dense to
    `act(concat([v, h]))`. `v` is known a row ahead, `h` only per pixel, so
    the two halves are computed at different times.
    """
    # The halves are equal: one split rather than a slice each.
    if activation == "concat_elu":  # act(x) = elu([x, -x]) = [a, b, -a, -b]
      a, b, neg_a, neg_b = tf.split(kernel, 4)
      return tf.concat([a, neg_a], 0), tf.concat([b, neg_b], 0)
    return tuple(tf.split(kernel, 2))
