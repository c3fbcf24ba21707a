"""TFP's masked convolutions, evaluated incrementally with small caches.

Two kinds, after the two stacks of the PixelCNN:

* `RowConv` (vertical stack): computes one output row, for the whole width,
  from a cache of its input's last few rows.
* `PixelConv` (horizontal stack): computes one output pixel. Its kernel reads
  at most two input rows: the latest *completed* one, whose contribution
  (`row_term`) is computed once per output row for the whole width, and the
  row being generated, whose few taps (`pixel_term`) read a cache of the
  last few inputs on that row.

Which kernel taps read which cached entry is derived in `geometry`. Weights
are read from the Keras variables by `prepare()` once per traced call.
"""
import tensorflow as tf

from tfp_fastpixel import geometry
from tfp_fastpixel import network


def _row_conv(row, kernel_row, stride, transposed):
  """Applies one kernel row to one input row, over the whole width.

  Args:
    row: [B, W_in, C_in].
    kernel_row: [kw, C_in, C_out] ([kw, C_out, C_in] if transposed).
    stride: the layer's column stride.
    transposed: whether the layer is a Conv2DTranspose.

  Returns:
    [B, W_out, C_out]. Column padding is TF's 'same' for the full layer,
    since 'same' pads each axis on its own.
  """
  x = row[:, tf.newaxis]
  k = kernel_row[tf.newaxis]
  strides = [1, 1, stride, 1]
  if transposed:
    out_shape = tf.stack([tf.shape(row)[0], 1, stride * row.shape[1],
                          kernel_row.shape[1]])
    y = tf.nn.conv2d_transpose(x, k, out_shape, strides, padding='SAME')
  else:
    y = tf.nn.conv2d(x, k, strides, padding='SAME')
  return y[:, 0]


class _CachedConv:
  """What both kinds share: the layer, its geometry, and its weights."""

  def __init__(self, layer, in_height, in_width, lag=0):
    self.layer = layer
    self.name = network.unwrap(layer).name
    self.geometry = geometry.conv_geometry(
        network.unwrap(layer), in_height, in_width, lag)
    self.in_width = in_width
    self.kernel = self.bias = None

  def prepare(self):
    """Reads the layer's current kernel [kh, kw, ...] and bias (in-trace)."""
    self.kernel, self.bias = network.kernel_and_bias(self.layer)

  def _row(self, row, kernel_row):
    return _row_conv(row, self.kernel[kernel_row], self.geometry.stride,
                     self.geometry.transposed)


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

  def empty_cache(self, batch, channels, dtype):
    return tf.zeros([batch, self.window, self.in_width, channels], dtype)

  def push(self, cache, row):
    return tf.concat([cache[:, 1:], row[:, tf.newaxis]], axis=1)

  def __call__(self, cache, row_phase):
    """Output row of the given phase (output row index mod 2), [B, W, C_out]."""
    out = self.bias
    for kernel_row, offset, _ in self.geometry.row_taps[row_phase]:
      out = out + self._row(cache[:, self.window - 1 + offset], kernel_row)
    return out


class PixelConv(_CachedConv):
  """A horizontal-stack convolution, one output pixel at a time.

  Cache: `[B, col_window, C_in]`, the newest inputs on the input row being
  generated (newest last; zeros left of the image, as 'same' padding). The
  latest completed input row is kept, for all pixel convolutions of a level
  together, by the generator.
  """

  def __init__(self, layer, in_height, in_width, lag=0):
    super().__init__(layer, in_height, in_width, lag)
    self.prev_row, self.cur_row, self.cur_cols = self.geometry.pixel_split()
    self.window = self.geometry.col_window
    self._pixel_weights = {}

  def prepare(self):
    super().prepare()
    # Built here, outside the pixel loops, so every loop body can use them:
    # per row phase, [column phases, window * C_in, C_out] (None: no taps).
    self._pixel_weights = []
    for qr in range(len(self.cur_row)):
      per_col = [self._current_row_matrix(qr, qc)
                 for qc in range(len(self.cur_cols))]
      if all(m is None for m in per_col):
        self._pixel_weights.append(None)
        continue
      shape = next(m for m in per_col if m is not None).shape
      self._pixel_weights.append(tf.stack(
          [tf.zeros(shape, self.kernel.dtype) if m is None else m
           for m in per_col]))

  def empty_cache(self, batch, channels, dtype):
    return tf.zeros([batch, self.window, channels], dtype)

  def push(self, cache, value):
    if not self.window:
      return cache
    return tf.concat([cache[:, 1:], value[:, tf.newaxis]], axis=1)

  def row_term(self, prev_row, row_phase):
    """Bias plus the previous-row taps, for every output column.

    Args:
      prev_row: [B, W_in, C_in], the latest completed input row (zeros
        above the image).
      row_phase: output row index mod 2 (0 unless transposed).

    Returns:
      [B, W_out, C_out], or just the bias [C_out] if no kernel row reads
      the previous row in this phase.
    """
    kernel_row = self.prev_row[row_phase]
    if kernel_row is None:
      return self.bias
    return self._row(prev_row, kernel_row) + self.bias

  def pixel_term(self, cache, row_phase, col_phase):
    """The current-row taps at one output pixel: [B, C_out], or None.

    `row_phase` is a Python int; `col_phase` may be a scalar tensor (the
    output column's parity, for transposed convolutions).
    """
    weights = self._pixel_weights[row_phase]
    if weights is None:
      return None
    weights = (weights[0] if weights.shape[0] == 1
               else tf.gather(weights, col_phase))
    flat = tf.reshape(cache, [tf.shape(cache)[0], weights.shape[0]])
    return tf.matmul(flat, weights)

  def _current_row_matrix(self, row_phase, col_phase):
    """[window * C_in, C_out]: kernel taps laid out like the flat cache."""
    kernel_row = self.cur_row[row_phase]
    taps = dict((self.window - 1 + off, b)
                for b, off in self.cur_cols[col_phase])
    if kernel_row is None or not taps:
      return None
    k = self.kernel[kernel_row]
    if self.geometry.transposed:  # [kw, C_out, C_in] -> [kw, C_in, C_out]
      k = tf.transpose(k, [0, 2, 1])
    blocks = [k[taps[slot]] if slot in taps else tf.zeros_like(k[0])
              for slot in range(self.window)]
    return tf.concat(blocks, axis=0)


class Dense:
  """A Dense layer of TFP's net, applied to the last axis."""

  def __init__(self, layer):
    self.layer = layer
    self.kernel = self.bias = None

  def prepare(self):
    self.kernel, self.bias = network.kernel_and_bias(self.layer)

  def __call__(self, x, kernel=None):
    kernel = self.kernel if kernel is None else kernel
    return tf.tensordot(x, kernel, [[x.shape.rank - 1], [0]]) + self.bias

  def split_concat_input(self, num_filters, activation):
    """Kernels for `act(concat([a, b]))`'s two halves: `(k_a, k_b)`.

    TFP's up-path horizontal blocks apply this Dense to
    `act(concat([v, h]))`. `v` is known a row ahead, `h` only per pixel, so
    the two halves are computed at different times.
    """
    f, k = num_filters, self.kernel
    if activation == 'concat_elu':  # act(x) = elu([x, -x]) = [a, b, -a, -b]
      return (tf.concat([k[:f], k[2 * f:3 * f]], 0),
              tf.concat([k[f:2 * f], k[3 * f:]], 0))
    return k[:f], k[f:]
