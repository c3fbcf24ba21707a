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
  convolutions of a level together, by the generator.
  """

  def __init__(self, layer, in_height, in_width, lag=0):
    super().__init__(layer, in_height, in_width, lag)
    self.prev_row, self.cur_row, self.cur_cols = self.geometry.pixel_split()
    self.window = self.geometry.col_window
    # Same-level convolutions (the blocks') can carry partial sums instead
    # of inputs (`carry`, for XLA): each input is multiplied once by all
    # its taps, and what it contributes to later outputs waits for them.
    # Two layouts:
    # * "fused": one dot by all taps side by side, the fewest kernels (a
    #   GPU launches each kernel in turn);
    # * "split": the current output's taps (`now`, on the pixel's dependent
    #   chain) and the later outputs' (`later`, a second dot that nothing
    #   reads until the next pixel), so that XLA's CPU runtime runs the
    #   second on another core while the chain goes on.
    # In graph mode (no carry) the input cache, a concat and one matmul,
    # dispatches fewer ops.
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

  def read_weights(self, carry=None):
    """The bias, `rows` (`row_term`'s) and the current-row taps.

    `current`: per row phase, the current-row taps as one matrix. Each
    entry is `[window * C_in, C_out]` when there is one column phase,
    `[2, window * C_in, C_out]` when the taps depend on the output column's
    parity (transposed), or None when the row phase has no current taps.
    With `carry` (see `__init__`), a convolution that can carry gets
    instead the matrices its `step` multiplies by: `spread` ("fused"), or
    `now` and `later` ("split").
    """
    kernel, weights = self._read()
    taps = self._taps(kernel)
    if carry and self.can_carry:
      # Block d holds the taps of the input d columns before the output
      # (d = 0: the current one), each [C_in, C_out]: the slots, newest
      # first (one row and one column phase: stride 1, not transposed).
      blocks = self._zeros_for_missing(self._current_row_blocks(taps, 0, 0))
      blocks = blocks[::-1]
      if carry == "fused":  # [C_in, window * C_out]
        weights["spread"] = tf.concat(blocks, axis=1)
      else:  # [C_in, C_out] and [C_in, (window - 1) * C_out] (or None)
        weights["now"] = blocks[0]
        weights["later"] = tf.concat(blocks[1:], axis=1) if blocks[1:] else None
      return weights
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

  def _rows_read(self):  # by `row_term`
    return {r for r in self.prev_row if r is not None}

  # The matrix of the dot that gives the current output, by `carry`.
  _CURRENT_DOT = {"fused": "spread", "split": "now"}

  def add_extra_rows(self, weights, carry, rows):
    """Makes `step(..., extra=...)` take an input of the current output only.

    In `weights` (`read_weights(carry)`), replaces the current-output dot's
    matrix by one with `rows` [C_extra, C_out] appended below it (zeros
    where the dot also gives later outputs); `step` then needs `extra`.
    """
    key = self._CURRENT_DOT[carry]
    matrix = weights.pop(key)
    rows = tf.pad(rows, [[0, 0], [0, matrix.shape[1] - rows.shape[1]]])
    weights[key + "_extra"] = tf.concat([matrix, rows], 0)

  def empty_cache(self, batch, dtype, carry=None):
    """Zeros: the flat input cache, or what `carry` carries.

    `carry` "fused": the latest `window - 1` products, each
    `[B, window * C_out]` (newest first). "split": `[B, (window - 1) *
    C_out]`, whose block d - 1 is what the inputs so far contribute to the
    output d columns ahead.
    """
    if carry and self.can_carry:
      if carry == "split":
        return tf.zeros([batch, (self.window - 1) * self.out_channels], dtype)
      return [
          tf.zeros([batch, self.window * self.out_channels], dtype)
          for _ in range(self.window - 1)
      ]
    return tf.zeros([batch, self.window * self.in_channels], dtype)

  def step(self, weights, cache, value, carry=None, extra=None):
    """Takes this pixel's input `value` [B, C_in] at the output's column.

    Args:
      weights: `read_weights(carry)`, and `add_extra_rows` where `extra`
        is given.
      cache: as made by `empty_cache(..., carry)`.
      value: [B, C_in].
      carry: None, "fused" or "split" (see `__init__`).
      extra: with `carry`, an input [B, C_extra] of the current output
        only, multiplied in the same dot.

    Returns:
      The current-row taps' output [B, C_out] (or None, if there are none)
      and the new cache.
    """
    if not (carry and self.can_carry):
      cache = self.push(cache, value)
      return self.pixel_term(weights["current"][0], cache), cache
    c = self.out_channels
    out = self.current_dot(weights, value, carry, extra)
    if carry == "fused":
      product = out
      out = product[:, :c]
      for d, older in enumerate(cache, 1):  # products of earlier columns
        out += older[:, d * c : (d + 1) * c]
      return out, ([product] + cache)[: self.window - 1]
    if weights["later"] is None:
      return out, cache
    return out + cache[:, :c], self.ahead(weights, value, cache[:, c:])

  def current_dot(self, weights, value, carry, extra=None):
    """With `carry`, the dot that gives the current output.

    "fused": `[B, window * C_out]`, every output this input reaches;
    "split": `[B, C_out]`, its taps of the current output alone. `extra`
    as in `step`.
    """
    current = self._CURRENT_DOT[carry]
    if extra is not None:
      value = tf.concat([value, extra], axis=-1)
      current += "_extra"
    return tf.matmul(value, weights[current])

  def ahead(self, weights, value, tail):
    """The "split" layout's second dot: `[B, (window - 1) * C_out]`.

    What the inputs up to `value` contribute to the next `window - 1`
    outputs, the next first. `tail` `[B, (window - 2) * C_out]` is the
    previous call's result less its first block (the sums that were two or
    more columns ahead). Nothing on the pixel's dependent chain reads it
    before the next pixel, so XLA's CPU runtime runs it on another core.
    """
    ahead = tf.matmul(value, weights["later"])
    if self.window > 2:
      ahead += tf.pad(tail, [[0, 0], [0, self.out_channels]])
    return ahead

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
