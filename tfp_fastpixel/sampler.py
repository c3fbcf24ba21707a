"""The cached generator of Ramachandran et al. (2017) for TFP's PixelCNN.

Level k of the U-net runs at resolution H/2^k x W/2^k. Walking the
full-resolution pixels in raster order:

* at the start of full-resolution row i, every level k with 2^k | i
  computes its vertical-stack row (whole width, `RowConv`s), then the
  row-wide part of each of its horizontal convolutions (`PixelConv.row_term`);
* at pixel (i, j), every level k with 2^k | i and 2^k | j computes its
  horizontal stack at one position: down from level 0, back up, then the
  head and the pixel's exact draw.

So each activation is computed once and a pixel's work does not grow with the
image. Which levels run on a row is static within a tile of 2^(K-1) rows, so
the outer `tf.while_loop` unrolls one tile of rows in Python; within a row,
the pixel loop enters deeper levels through `tf.cond` on the column.
"""
import tensorflow as tf
import tf_keras

from tfp_fastpixel import cached_layers
from tfp_fastpixel import mixture
from tfp_fastpixel import network


def _gate(x):
  a, b = tf.split(x, 2, axis=-1)
  return tf.sigmoid(b) * a


def _deepest_level(offset, num_levels):
  """Deepest level k (< num_levels) with 2^k dividing a tile offset."""
  k = 0
  while k + 1 < num_levels and offset % 2 ** (k + 1) == 0:
    k += 1
  return k


class _Block:
  """One gated resnet block of both stacks at one level (see network.Block)."""

  def __init__(self, v_block, h_block, height, width):
    self.v_conv1 = cached_layers.RowConv(v_block.conv1, height, width)
    self.v_conv2 = cached_layers.RowConv(v_block.conv2, height, width)
    self.h_conv1 = cached_layers.PixelConv(h_block.conv1, height, width)
    self.h_conv2 = cached_layers.PixelConv(h_block.conv2, height, width)
    self.v_skip, self.h_skip, self.v_cond, self.h_cond = [
        cached_layers.Dense(l) if l is not None else None
        for l in (v_block.skip_dense, h_block.skip_dense, v_block.cond_dense,
                  h_block.cond_dense)]


class CachedGenerator:
  """Samples a `tfd.PixelCNN` with per-layer caches.

  Built once per distribution; `generate` is meant to run inside a
  `tf.function` and reads the current weights each call.
  """

  def __init__(self, dist):
    net = dist.network
    self.levels = net._num_hierarchies  # pylint: disable=protected-access
    self.filters = net._num_filters  # pylint: disable=protected-access
    self.activation = net._resnet_activation  # pylint: disable=protected-access
    self.act = network.activation_fn(self.activation)
    self.num_mix = dist._num_logistic_mix  # pylint: disable=protected-access
    self.height, self.width, self.channels = dist.image_shape.as_list()
    self.dtype = dist.dtype
    self.low, self.high = dist._low, dist._high  # pylint: disable=protected-access
    self.tile = 2 ** (self.levels - 1)
    plan = network.NetworkPlan.from_network(
        net, conditional=dist.conditional_shape is not None)
    size = [(self.height >> k, self.width >> k) for k in range(self.levels)]
    h, w = size[0]

    # Image-facing layers read the image with a lag of one pixel.
    self.v_init = cached_layers.RowConv(plan.v_init, h, w, lag=1)
    self.h_init = [cached_layers.PixelConv(layer, h, w, lag=1)
                   for layer in (plan.h_init_up, plan.h_init_left)]
    self.down = [[_Block(vb, hb, *size[k])
                  for vb, hb in zip(lvl.v_blocks, lvl.h_blocks)]
                 for k, lvl in enumerate(plan.down)]
    self.up = [[_Block(vb, hb, *size[k])
                for vb, hb in zip(lvl.v_blocks, lvl.h_blocks)]
               for k, lvl in enumerate(plan.up)]
    # v_down[k], h_down[k]: level k -> k+1; v_up[k], h_up[k]: k+1 -> k.
    self.v_down = [cached_layers.RowConv(l, *size[k])
                   for k, l in enumerate(plan.v_down)]
    self.h_down = [cached_layers.PixelConv(l, *size[k])
                   for k, l in enumerate(plan.h_down)]
    self.v_up = [cached_layers.RowConv(l, *size[k + 1])
                 for k, l in enumerate(plan.v_up)]
    self.h_up = [cached_layers.PixelConv(l, *size[k + 1])
                 for k, l in enumerate(plan.h_up)]
    self.head = cached_layers.Dense(plan.head)

    # Pixel convolutions by the level of their input. The latest completed
    # input row of all of them is stored per level, in this order.
    self.pixel_inputs = {k: [] for k in range(self.levels)}
    self.pixel_inputs[0] += self.h_init
    for k in range(self.levels):
      for blk in self.down[k] + self.up[k]:
        self.pixel_inputs[k] += [blk.h_conv1, blk.h_conv2]
      if k < self.levels - 1:
        self.pixel_inputs[k].append(self.h_down[k])
        self.pixel_inputs[k + 1].append(self.h_up[k])
    self.row_convs = [self.v_init] + self.v_down + self.v_up + [
        c for lvl in self.down + self.up for b in lvl
        for c in (b.v_conv1, b.v_conv2)]
    self._widths = [s[1] for s in size]

  # -- Weights and channel counts --------------------------------------------

  def _prepare(self, cond):
    """Reads the weights, and projects the conditional input once per call."""
    layers = list(self.row_convs) + [
        c for convs in self.pixel_inputs.values() for c in convs] + [self.head]
    for blk in (b for lvl in self.down + self.up for b in lvl):
      layers += [d for d in (blk.v_skip, blk.h_skip, blk.v_cond, blk.h_cond)
                 if d is not None]
    for layer in layers:
      layer.prepare()
    for blk in (b for lvl in self.up for b in lvl):
      blk.h_skip_v, blk.h_skip_h = blk.h_skip.split_concat_input(
          self.filters, self.activation)
    for blk in (b for lvl in self.down + self.up for b in lvl):
      # [B, 1, 2F], broadcast over the row; added before each gate.
      blk.v_cond_term, blk.h_cond_term = [
          0. if cond is None else dense(cond)[:, tf.newaxis]
          for dense in (blk.v_cond, blk.h_cond)]

  def _in_channels(self, conv):
    return conv.kernel.shape[-1 if conv.geometry.transposed else -2]

  # -- The vertical stack: one row per level ---------------------------------

  def _v_block(self, blk, x, skip, vcache):
    """Gated resnet block of the vertical stack, for one whole row."""
    vcache[blk.v_conv1.name] = blk.v_conv1.push(vcache[blk.v_conv1.name],
                                                self.act(x))
    y = blk.v_conv1(vcache[blk.v_conv1.name], 0)
    if skip is not None:
      y += blk.v_skip(self.act(skip))
    vcache[blk.v_conv2.name] = blk.v_conv2.push(vcache[blk.v_conv2.name],
                                                self.act(y))
    y = blk.v_conv2(vcache[blk.v_conv2.name], 0) + blk.v_cond_term
    return x + _gate(y)

  def _row_start(self, s, deepest, vcache, last_rows):
    """Work at the start of full-resolution row (tile offset s).

    Returns the row terms `{conv name: [W_out, B, C_out] or [C_out]}` of the
    pixel convolutions whose output level runs in this row.
    """
    row_terms = {}

    def row_term(conv, phase, extra=0.):
      term = conv.row_term(last_rows[conv.name], phase) + extra
      row_terms[conv.name] = (term if term.shape.rank == 1
                              else tf.transpose(term, [1, 0, 2]))

    v = self.v_init(vcache[self.v_init.name], 0)
    for conv in self.h_init:
      row_term(conv, 0)
    skips = {}
    for k in range(deepest + 1):
      if k > 0:
        v = self.v_down[k - 1](vcache[self.v_down[k - 1].name], 0)
        row_term(self.h_down[k - 1], 0)
      skips[k] = [v]
      for blk in self.down[k]:
        v = self._v_block(blk, v, None, vcache)
        skips[k].append(v)
        row_term(blk.h_conv1, 0, blk.h_skip(self.act(v)))
        row_term(blk.h_conv2, 0, blk.h_cond_term)
      if k < self.levels - 1:
        name = self.v_down[k].name
        vcache[name] = self.v_down[k].push(vcache[name], v)
    for k in range(deepest, -1, -1):
      phase = (s >> k) & 1
      if k == self.levels - 1:
        u = skips[k].pop()
      else:
        u = self.v_up[k](vcache[self.v_up[k].name], phase)
        row_term(self.h_up[k], phase)
      for blk in self.up[k]:
        u = self._v_block(blk, u, skips[k].pop(), vcache)
        v_part = tf.tensordot(self.act(u), blk.h_skip_v, 1) + blk.h_skip.bias
        row_term(blk.h_conv1, 0, v_part)
        row_term(blk.h_conv2, 0, blk.h_cond_term)
      if k > 0:
        name = self.v_up[k - 1].name
        vcache[name] = self.v_up[k - 1].push(vcache[name], u)
    return row_terms

  # -- The horizontal stack: one pixel per level ------------------------------

  def _h_block(self, blk, x, ctx, k, skip=None):
    """Gated resnet block of the horizontal stack, at one pixel of level k."""
    y = ctx.step(blk.h_conv1, self.act(x), k)
    if skip is not None:  # the vertical half is in h_conv1's row term
      y += tf.matmul(self.act(skip), blk.h_skip_h)
    y = ctx.step(blk.h_conv2, self.act(y), k)
    return x + _gate(y)

  def _level(self, k, deepest, s, ctx, h):
    """Level k's work at this pixel, given its first horizontal value `h`.

    Runs the down blocks, the deeper levels where this column reaches them,
    then the up blocks. Returns level k's up-path output.
    """
    skips = [h]
    for blk in self.down[k]:
      h = self._h_block(blk, h, ctx, k)
      skips.append(h)
    if k < self.levels - 1:
      ctx.push(self.h_down[k], h)
    if k < deepest:
      self._deeper(k + 1, deepest, s, ctx)
    if k == self.levels - 1:
      u = skips.pop()
    else:
      u = ctx.output(self.h_up[k], k, row_phase=(s >> k) & 1,
                     col_phase=ctx.col(k) % 2)
    for blk in self.up[k]:
      u = self._h_block(blk, u, ctx, k, skip=skips.pop())
    if k > 0:
      ctx.push(self.h_up[k - 1], u)
      ctx.store(k, self.pixel_inputs[k])
    return u

  def _deeper(self, k, deepest, s, ctx):
    """Runs levels k.. if this pixel's column is a multiple of 2^k.

    Only caches and row stores of levels >= k change, so only those go
    through the `tf.cond`.
    """
    levels = range(k, deepest + 1)
    names = [c.name for l in levels for c in self.pixel_inputs[l]]

    def state(c):
      return {n: c.hcache[n] for n in names}, {l: c.records[l] for l in levels}

    def run():
      sub = ctx.branch()
      self._level(k, deepest, s, sub, sub.output(self.h_down[k - 1], k))
      return state(sub)

    hcache, records = tf.cond(ctx.j % 2 ** k == 0, run, lambda: state(ctx))
    ctx.hcache.update(hcache)
    ctx.records.update(records)

  # -- The whole image ---------------------------------------------------------

  def generate(self, n, cond, seed, return_params=False, progress=False):
    """Draws `n` images.

    Args:
      n: the batch size, a Python int or an int32 scalar tensor (then one
        trace serves every batch size).
      cond: [n, D] flattened conditional input, or None.
      seed: stateless seed, int32 [2].
      return_params: also return the mixture parameters used at each pixel.
      progress: show a Keras progress bar over image rows.

    Returns:
      samples: [n, H, W, C] integer pixel values (as `dtype`).
      raw_params: [n, H, W, M * num_params] head outputs, if requested.
    """
    self._prepare(cond)
    dtype, tile, levels = self.dtype, self.tile, self.levels
    low = tf.cast(self.low, dtype)
    high = tf.cast(self.high, dtype)
    h, w, c = self.height, self.width, self.channels
    gumbel, uniform = mixture.noise(seed, [h, w, n], self.num_mix, c, dtype)
    raw_size = self.head.kernel.shape[-1]

    vcache = {conv.name: conv.empty_cache(n, self._in_channels(conv), dtype)
              for conv in self.row_convs}
    last_rows = {
        conv.name: tf.zeros([n, self._widths[k], self._in_channels(conv)],
                            dtype)
        for k, convs in self.pixel_inputs.items() for conv in convs}
    images = tf.TensorArray(dtype, size=h, element_shape=[w, None, c])
    params = tf.TensorArray(dtype, size=h if return_params else 0,
                            element_shape=[w, None, raw_size])

    def row_tile(g, vcache, last_rows, images, params):
      for s in range(tile):
        i = g * tile + s
        deepest = _deepest_level(s, levels)
        row_terms = self._row_start(s, deepest, vcache, last_rows)
        pixels, row_params, stored = self._run_row(
            s, deepest, row_terms, gumbel[i], uniform[i], low, high,
            return_params, n)
        images = images.write(i, pixels)
        if progress:
          tf.py_function(self._progress, [i], [])
        if return_params:
          params = params.write(i, row_params)
        scaled = tf.transpose(mixture.to_network_scale(pixels, low, high),
                              [1, 0, 2])
        self._push_image_row(vcache, scaled)
        last_rows = dict(last_rows)
        last_rows.update(stored)
      return g + 1, vcache, last_rows, images, params

    _, _, _, images, params = tf.while_loop(
        lambda g, *_: g < h // tile, row_tile,
        (tf.constant(0), vcache, last_rows, images, params))
    samples = tf.transpose(images.stack(), [2, 0, 1, 3])
    if not return_params:
      return samples
    return samples, tf.transpose(params.stack(), [2, 0, 1, 3])

  def _progress(self, row):
    if int(row) == 0:
      self._bar = tf_keras.utils.Progbar(self.height, unit_name='row')
    self._bar.update(int(row) + 1)

  def _push_image_row(self, vcache, scaled_row):
    name = self.v_init.name
    vcache[name] = self.v_init.push(vcache[name], scaled_row)

  def _run_row(self, s, deepest, row_terms, gumbel_row, uniform_row, low,
               high, return_params, n):
    """The pixel loop of one full-resolution row.

    Returns:
      pixels: [W, B, C] sampled values.
      row_params: [W, B, P] raw head outputs (or None).
      stored: {conv name: [B, W_in, C_in]}, the row just completed at each
        running level, for the next row terms.
    """
    dtype = self.dtype
    running = range(deepest + 1)
    hcache = {
        conv.name: conv.empty_cache(n, self._in_channels(conv), dtype)
        for k in running for conv in self.pixel_inputs[k]}
    records = {k: tf.TensorArray(dtype, size=self._widths[k]) for k in running}
    pixels = tf.TensorArray(dtype, size=self.width)
    row_params = tf.TensorArray(dtype, size=self.width if return_params else 0)

    def pixel(j, hcache, records, pixels, row_params):
      ctx = _PixelContext(hcache, records, row_terms, j)
      h = ctx.output(self.h_init[0], 0) + ctx.output(self.h_init[1], 0)
      u = self._level(0, deepest, s, ctx, h)
      raw = self.head(tf.nn.elu(u))
      x, scaled = mixture.sample_pixel(
          mixture.split_params(raw, self.channels, self.num_mix),
          gumbel_row[j], uniform_row[j], low, high)
      for conv in self.h_init:
        ctx.push(conv, scaled)
      ctx.store(0, self.pixel_inputs[0])
      pixels = pixels.write(j, x)
      if return_params:
        row_params = row_params.write(j, raw)
      return j + 1, ctx.hcache, ctx.records, pixels, row_params

    _, _, records, pixels, row_params = tf.while_loop(
        lambda j, *_: j < self.width, pixel,
        (tf.constant(0), hcache, records, pixels, row_params))

    stored = {}
    for k in running:
      row = tf.transpose(records[k].stack(), [1, 0, 2])
      convs = self.pixel_inputs[k]
      sizes = [self._in_channels(conv) for conv in convs]
      for conv, part in zip(convs, tf.split(row, sizes, axis=-1)):
        stored[conv.name] = part
    return (pixels.stack(), row_params.stack() if return_params else None,
            stored)


class _PixelContext:
  """Per-pixel bookkeeping while tracing one pixel (or one `tf.cond` branch).

  Holds the current-row caches of the pixel convolutions and the per-level
  row stores, records each convolution's input for the row store, and reads
  row terms at the output column.
  """

  def __init__(self, hcache, records, row_terms, j):
    self.hcache = dict(hcache)
    self.records = dict(records)
    self.row_terms = row_terms
    self.j = j
    self.recorded = {}

  def branch(self):
    return _PixelContext(self.hcache, self.records, self.row_terms, self.j)

  def col(self, level):
    """This pixel's column index at `level` (where it runs)."""
    return self.j // 2 ** level

  def push(self, conv, value):
    """Adds `value` to `conv`'s current-row cache and to the row store."""
    self.hcache[conv.name] = conv.push(self.hcache[conv.name], value)
    self.recorded[conv.name] = value

  def store(self, level, convs):
    """Writes this pixel's inputs of `convs` (level `level`) to its store."""
    values = tf.concat([self.recorded[c.name] for c in convs], axis=-1)
    self.records[level] = self.records[level].write(self.col(level), values)

  def output(self, conv, out_level, row_phase=0, col_phase=0):
    """The convolution's output at this pixel's position on `out_level`."""
    term = self.row_terms[conv.name]
    if term.shape.rank == 3:
      term = term[self.col(out_level)]
    # A transposed convolution's input row may not run on this row; then it
    # has no current-row taps here and its cache is not needed.
    cur = conv.pixel_term(self.hcache.get(conv.name), row_phase, col_phase)
    return term if cur is None else term + cur

  def step(self, conv, value, level):
    """Pushes a same-level convolution's input and returns its output."""
    self.push(conv, value)
    return self.output(conv, level)
