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
image. The program is two nested `tf.while_loop`s (rows, then pixels) whose
bodies enter deeper levels through nested `tf.cond`s. Everything the loops
carry is a plain tensor, or a TensorArray written outside the conds, so the
same program runs in graph mode and under XLA.

Per level and per pixel, the row-wide parts of all horizontal convolutions
are read with one gather and one split; their inputs are recorded (for the
next row's row-wide parts) with one concat, and all levels with one write.
XLA copies loop and conditional state that it cannot update in place, and
on a GPU every copy is a launch, so the XLA layouts move a few buffers per
level rather than dozens: on accelerators each level's pixel caches travel
as one tensor (`_CacheLayout`); on a CPU each level's carried partial sums
do (`_CarriedSums`).
"""

import dataclasses

import tensorflow as tf

from tfp_fastpixel import cached_layers
from tfp_fastpixel import mixture
from tfp_fastpixel import network

Dense = cached_layers.Dense


def _gate(x):
  """`a * sigmoid(b)` for `x = [a, b]` on the last axis.

  Written as softplus's gradient, which is `a * sigmoid(b)`: one op, which
  XLA's bridge lowers directly, where it lowers `tf.sigmoid` through an
  MLIR pipeline of its own for each op (7-10 ms each when the core is
  compiled; QuickDraw's has 64).
  """
  a, b = tf.split(x, 2, axis=-1)
  return tf.raw_ops.SoftplusGrad(gradients=a, features=b)


def _depth(index, num_levels):
  """Deepest level k (< num_levels) with 2^k dividing a row/column index."""
  k = 0
  while k + 1 < num_levels and index % 2 ** (k + 1) == 0:
    k += 1
  return k


@dataclasses.dataclass(frozen=True)
class _Block:
  """One gated resnet block of both stacks at one level (see network.Block)."""

  v_conv1: cached_layers.RowConv
  v_conv2: cached_layers.RowConv
  h_conv1: cached_layers.PixelConv
  h_conv2: cached_layers.PixelConv
  v_skip: Dense
  h_skip: Dense
  v_cond: Dense
  h_cond: Dense

  @classmethod
  def build(cls, v_block, h_block, height, width):
    dense = [
        Dense(layer) if layer is not None else None
        for layer in (
            v_block.skip_dense,
            h_block.skip_dense,
            v_block.cond_dense,
            h_block.cond_dense,
        )
    ]
    return cls(
        cached_layers.RowConv(v_block.conv1, height, width),
        cached_layers.RowConv(v_block.conv2, height, width),
        cached_layers.PixelConv(h_block.conv1, height, width),
        cached_layers.PixelConv(h_block.conv2, height, width),
        *dense,
    )


class CachedGenerator:
  """Samples a `tfd.PixelCNN` with per-layer caches.

  Built once per distribution, from the network's structure alone; it holds
  no tensors. Its caller reads the current weights (`read_weights`) on each
  call and passes them to `generate`, so one trace serves a model in
  training.
  """

  def __init__(self, dist):
    params = dist.parameters
    net = dist.network
    self.levels = params["num_hierarchies"]
    self.filters = params["num_filters"]
    self.activation = params["resnet_activation"]
    self.act = network.activation_fn(self.activation)
    self.num_mix = params["num_logistic_mix"]
    self.low, self.high = params["low"], params["high"]
    self.height, self.width, self.channels = dist.image_shape.as_list()
    self.dtype = dist.dtype
    plan = network.NetworkPlan.from_network(
        net, conditional=dist.conditional_shape is not None
    )
    size = [(self.height >> k, self.width >> k) for k in range(self.levels)]
    self.widths = [w for _, w in size]
    h, w = size[0]

    # Image-facing layers read the image with a lag of one pixel.
    self.v_init = cached_layers.RowConv(plan.v_init, h, w, lag=1)
    self.h_init = [
        cached_layers.PixelConv(layer, h, w, lag=1)
        for layer in (plan.h_init_up, plan.h_init_left)
    ]
    self.down = [
        [
            _Block.build(vb, hb, *size[k])
            for vb, hb in zip(lvl.v_blocks, lvl.h_blocks)
        ]
        for k, lvl in enumerate(plan.down)
    ]
    self.up = [
        [
            _Block.build(vb, hb, *size[k])
            for vb, hb in zip(lvl.v_blocks, lvl.h_blocks)
        ]
        for k, lvl in enumerate(plan.up)
    ]
    # v_down[k], h_down[k]: level k -> k+1; v_up[k], h_up[k]: k+1 -> k.
    self.v_down = [
        cached_layers.RowConv(layer, *size[k])
        for k, layer in enumerate(plan.v_down)
    ]
    self.h_down = [
        cached_layers.PixelConv(layer, *size[k])
        for k, layer in enumerate(plan.h_down)
    ]
    self.v_up = [
        cached_layers.RowConv(layer, *size[k + 1])
        for k, layer in enumerate(plan.v_up)
    ]
    self.h_up = [
        cached_layers.PixelConv(layer, *size[k + 1])
        for k, layer in enumerate(plan.h_up)
    ]
    self.head = Dense(plan.head)
    self.blocks = [b for lvl in self.down + self.up for b in lvl]
    for conv in self.h_up:
      # Row phase 1 of level k is a row where level k+1 does not run, so its
      # cache is stale there; the geometry must not read it.
      if conv.has_current_taps(1):
        raise ValueError(
            f"{conv.name}: unsupported geometry (reads level "
            "k+1 on a row where it does not run)."
        )

    # Pixel convolutions by the level of their *input*: each pixel at level
    # k records the inputs of these, concatenated in this order, so that the
    # next row's row terms can read the completed row.
    self.records = {k: [] for k in range(self.levels)}
    # ... and by the level of their *output*: the layout of the row terms.
    self.terms = {k: [] for k in range(self.levels)}
    self.records[0] += self.h_init
    self.terms[0] += self.h_init
    for k in range(self.levels):
      for blk in self.down[k] + self.up[k]:
        self.records[k] += [blk.h_conv1, blk.h_conv2]
        self.terms[k] += [blk.h_conv1, blk.h_conv2]
      if k < self.levels - 1:
        self.records[k].append(self.h_down[k])
        self.terms[k + 1].append(self.h_down[k])
        self.records[k + 1].append(self.h_up[k])
        self.terms[k].append(self.h_up[k])
    self.record_level = {
        c.name: k for k, convs in self.records.items() for c in convs
    }
    self.sums = _CarriedSums(self.terms)
    self._record_sizes = [
        sum(c.in_channels for c in self.records[k]) for k in range(self.levels)
    ]
    # Row convolutions by the level of their input (which cond updates them).
    self.row_convs = {0: [self.v_init]}
    for k in range(self.levels):
      self.row_convs.setdefault(k, [])
      self.row_convs[k] += [
          c for b in self.down[k] + self.up[k] for c in (b.v_conv1, b.v_conv2)
      ]
      if k < self.levels - 1:
        self.row_convs[k].append(self.v_down[k])
        self.row_convs.setdefault(k + 1, []).append(self.v_up[k])
    self.row_depths = [_depth(i, self.levels) for i in range(self.height)]
    self.col_depths = [_depth(j, self.levels) for j in range(self.width)]

  # -- Weights -----------------------------------------------------------------

  def read_weights(self, cond, layout):
    """Every tensor the loops compute with, read once per call.

    Args:
      cond: [B, D] flattened conditional input, or None.
      layout: the `layouts.Layout` of the program these weights are for.

    Returns:
      `{layer name: {...}}`, only what the loops read (each layer's
      `read_weights`): per conditional Dense its `term` (`[B, 1, 2F]`,
      added before each gate); for up-path horizontal blocks, the skip
      Dense split into the halves that read the vertical and the horizontal
      stack (the latter inside conv1's current-output dot with `carry`).
    """
    carry = layout.carry
    pixel_convs = [c for convs in self.records.values() for c in convs]
    row_convs = [c for convs in self.row_convs.values() for c in convs]
    dense = [self.head] + [
        d
        for b in self.blocks
        for d in (b.v_skip, b.h_skip, b.v_cond, b.h_cond)
        if d is not None
    ]
    weights = {c.name: c.read_weights(carry) for c in pixel_convs}
    weights.update((layer.name, layer.read_weights()) for layer in row_convs)
    weights.update((layer.name, layer.read_weights()) for layer in dense)
    for blk in self.blocks:
      for dense in (blk.v_cond, blk.h_cond):
        if dense is not None:  # its term is all the loops read
          term = tf.expand_dims(Dense.apply(weights[dense.name], cond), 1)
          weights[dense.name] = {"term": term}
    for blk in (b for lvl in self.up for b in lvl):
      skip = weights[blk.h_skip.name]
      skip["v_half"], skip["h_half"] = Dense.split_concat_input(
          skip.pop("kernel"), self.activation
      )
      # With carried sums, conv1's current-output dot also takes the skip's
      # horizontal half (`_h_block`).
      if carry and blk.h_conv1.can_carry:
        blk.h_conv1.add_extra_rows(
            weights[blk.h_conv1.name], carry, skip.pop("h_half")
        )
    return weights

  def _up_current(self, weights, row_depth):
    """`{h_up[k] name: current-row matrix, zeroed unless level k+1 runs}`.

    A transposed h_up[k] has current-row taps only in row phase 0, i.e. on
    rows where level k+1 runs (checked at construction); gating its weights
    once per row keeps the pixel loop free of that test.
    """
    gated = {}
    for k, conv in enumerate(self.h_up):
      current = weights[conv.name]["current"][0]
      gated[conv.name] = (
          None
          if current is None
          else (current * tf.cast(row_depth > k, current.dtype))
      )
    return gated

  def _cond_term(self, weights, dense):
    return 0.0 if dense is None else weights[dense.name]["term"]

  # -- The vertical stack: one row per level ---------------------------------

  def _v_block(self, weights, blk, x, skip, vcache):
    """Gated resnet block of the vertical stack, for one whole row."""
    name1, name2 = blk.v_conv1.name, blk.v_conv2.name
    vcache[name1] = blk.v_conv1.push(vcache[name1], self.act(x))
    y = blk.v_conv1(weights[name1], vcache[name1], 0)
    if skip is not None:
      y += Dense.apply(weights[blk.v_skip.name], self.act(skip))
    vcache[name2] = blk.v_conv2.push(vcache[name2], self.act(y))
    y = blk.v_conv2(weights[name2], vcache[name2], 0)
    return x + _gate(y + self._cond_term(weights, blk.v_cond))

  def _row_level(self, k, v, row, terms):
    """Level k's vertical stack on a row where it runs.

    Computes the row terms of every pixel convolution whose output is at
    level k (into `row.row_terms[k]`) and returns level k's up-path row.
    `terms` already holds those of the convolutions fed from level k-1.
    """
    w = row.weights
    skips = [v]
    for blk in self.down[k]:
      v = self._v_block(w, blk, v, None, row.vcache)
      skips.append(v)
      terms[blk.h_conv1.name] = row.row_term(blk.h_conv1) + Dense.apply(
          w[blk.h_skip.name], self.act(v)
      )
      terms[blk.h_conv2.name] = row.row_term(blk.h_conv2) + self._cond_term(
          w, blk.h_cond
      )
    if k < self.levels - 1:
      name = self.v_down[k].name
      row.vcache[name] = self.v_down[k].push(row.vcache[name], v)
      u, terms[self.h_up[k].name] = self._deeper_rows(k, row)
    else:
      u = skips.pop()
    for blk in self.up[k]:
      u = self._v_block(w, blk, u, skips.pop(), row.vcache)
      skip = w[blk.h_skip.name]
      v_part = Dense.apply(skip, self.act(u), kernel=skip["v_half"])
      terms[blk.h_conv1.name] = row.row_term(blk.h_conv1) + v_part
      terms[blk.h_conv2.name] = row.row_term(blk.h_conv2) + self._cond_term(
          w, blk.h_cond
      )
    if k > 0:
      name = self.v_up[k - 1].name
      row.vcache[name] = self.v_up[k - 1].push(row.vcache[name], u)
    # Each term is [B, W_k, C_out]; one concat and one transpose for all.
    row.row_terms[k] = tf.transpose(
        tf.concat([terms[c.name] for c in self.terms[k]], axis=-1), [1, 0, 2]
    )  # [W_k, B, sum of C_out]
    return u

  def _deeper_rows(self, k, row):
    """Levels > k on this row if level k+1 runs; and level k's up input.

    Level k's up path reads level k+1 through a transposed convolution, in
    row phase 0 where level k+1 runs on this row and phase 1 where it does
    not, so each branch knows its phase statically. Only state of levels
    > k goes through the `tf.cond`.
    """
    names = [
        c.name
        for deeper in range(k + 1, self.levels)
        for c in self.row_convs[deeper]
    ]
    levels = range(k + 1, self.levels)
    v_up, h_up = self.v_up[k], self.h_up[k]

    def out(r, phase):
      u = v_up(r.weights[v_up.name], r.vcache[v_up.name], phase)
      return (
          {n: r.vcache[n] for n in names},
          {d: r.row_terms[d] for d in levels},
          u,
          r.row_term(h_up, phase),
      )

    def run():
      sub = row.branch()
      down = self.v_down[k]
      v = down(sub.weights[down.name], sub.vcache[down.name], 0)
      self._row_level(
          k + 1, v, sub, {self.h_down[k].name: sub.row_term(self.h_down[k])}
      )
      return out(sub, 0)

    vcache, row_terms, u, term = tf.cond(
        row.depth > k, run, lambda: out(row, 1)
    )
    row.vcache.update(vcache)
    row.row_terms.update(row_terms)
    return u, term

  # -- The horizontal stack: one pixel per level ------------------------------

  def _h_block(self, blk, x, px, k, skip=None):
    """Gated resnet block of the horizontal stack, at one pixel of level k."""
    if skip is None:
      y = px.step(blk.h_conv1, px.act(x))
    elif px.carry and blk.h_conv1.can_carry:
      # One dot for conv1's current taps and the skip's horizontal half
      # (whose vertical half is in the row term): [act(x), act(skip)] @
      # [[taps], [h_half, 0]].
      y = px.step(blk.h_conv1, px.act(x), extra=px.act(skip))
    else:
      y = px.step(blk.h_conv1, px.act(x)) + tf.matmul(
          px.act(skip), px.weights[blk.h_skip.name]["h_half"]
      )
    y = px.step(blk.h_conv2, px.act(y))
    return x + _gate(y)

  def _pixel_level(self, k, px, first):
    """Level k's work at this pixel; `first(px)` gives its first value.

    Runs the down blocks, the deeper levels where this pixel reaches them,
    then the up blocks. Returns level k's up-path output.
    """
    px.read_terms(k, self.terms[k])
    h = first(px)
    skips = [h]
    for blk in self.down[k]:
      h = self._h_block(blk, h, px, k)
      skips.append(h)
    if k < self.levels - 1:
      px.push(self.h_down[k], h)
      self._deeper_pixel(k, px)
      u = px.output(self.h_up[k], px.up_phase(k))
    else:
      u = skips.pop()
    for blk in self.up[k]:
      u = self._h_block(blk, u, px, k, skip=skips.pop())
    px.carry_sums(k)
    if k > 0:
      px.push(self.h_up[k - 1], u)
      px.record(k, self.records[k])
    return u

  def _deeper_pixel(self, k, px):
    """Levels > k at this pixel, if its row and column reach level k+1.

    Only caches of levels > k change, so only those go through the
    `tf.cond`; it also returns what those levels record (zeros where they
    do not run), which the pixel loop writes outside any cond.
    """
    levels = range(k + 1, self.levels)
    if px.packed is None:
      branches = self._unpacked_branches(k, px)
    else:
      branches = self._packed_branches(k, px)
    cache, carried, records = tf.cond(px.depth > k, *branches)
    px.carried.update(carried)
    if px.packed is None:
      px.cache.update(cache)
    else:  # level k reads level k+1's h_up cache after the cond
      px.packed.update(cache)
      px.cache.update(px.packing.unpack(cache[k + 1], k + 1))
    px.recorded.update(zip(levels, records))

  def _skipped_records(self, k, px):
    """What levels > k record at a pixel they do not reach: zeros."""
    return [
        tf.zeros([px.batch, self._record_sizes[d]], self.dtype)
        for d in range(k + 1, self.levels)
    ]

  def _unpacked_branches(self, k, px):
    """`_deeper_pixel`'s branches: each deeper cache its own tensor."""
    levels = range(k + 1, self.levels)
    names = [
        c.name
        for deeper in levels
        for c in self.records[deeper]
        if c.name in px.cache
    ]
    sums = [d for d in levels if d in px.carried]

    def run():
      sub = px.branch()
      self._pixel_level(k + 1, sub, lambda s: s.output(self.h_down[k]))
      records = [sub.recorded[d] for d in levels]
      return (
          {n: sub.cache[n] for n in names},
          {d: sub.carried[d] for d in sums},
          records,
      )

    def skip():
      return (
          {n: px.cache[n] for n in names},
          {d: px.carried[d] for d in sums},
          self._skipped_records(k, px),
      )

    return run, skip

  def _packed_branches(self, k, px):
    """`_deeper_pixel`'s branches when each level's caches are one tensor.

    The cond then takes and returns one tensor per deeper level rather than
    one per cache: XLA copies a conditional's operands and results, and on
    a GPU each copy is a launch (54 of the 72 copies in the QuickDraw
    model's pixel body, before).
    """
    levels = range(k + 1, self.levels)

    def run():
      sub = px.branch()
      sub.cache.update(px.packing.unpack(sub.packed[k + 1], k + 1))
      self._pixel_level(k + 1, sub, lambda s: s.output(self.h_down[k]))
      packed = dict(sub.packed)
      packed[k + 1] = px.packing.pack(sub.cache, k + 1)
      records = [sub.recorded[d] for d in levels]
      return {d: packed[d] for d in levels}, {}, records

    def skip():
      return {d: px.packed[d] for d in levels}, {}, self._skipped_records(k, px)

    return run, skip

  # -- The whole image ---------------------------------------------------------

  def generate(
      self,
      layout,
      weights,
      gumbel,
      logistic,
      return_params=False,
      progress=None,
      observed=None,
  ):
    """Draws `B` images, given all their noise.

    Args:
      layout: the program's `layouts.Layout`.
      weights: `read_weights(cond)`. Read by the caller, so that under XLA
        they can be read before the compiled program: the weight-norm and
        matrix preparation is 40% of the traced ops but runs once per call,
        and compiling it cost XLA about 2.5 s for nothing.
      gumbel: [H, W, B, M] standard Gumbel noise (picks the components).
      logistic: [H, W, B, C] standard logistic noise (the pixel draws).
      return_params: also return the mixture parameters used at each pixel.
      progress: None, or a Python function called with each finished row
        index (through `tf.py_function`; not for XLA).
      observed: None, or `(values [H, W, B, C], num_observed)`: the first
        `num_observed` pixels in raster order take `values` instead of
        being drawn, and feed the caches as drawn pixels would (the rest
        is then drawn from p(rest | observed prefix)).

    Returns:
      samples: [B, H, W, C] integer pixel values (as `dtype`).
      raw_params: [B, H, W, M * num_params] head outputs, if requested.
    """
    dtype = self.dtype
    batch = tf.shape(gumbel)[2]
    low, high = tf.cast(self.low, dtype), tf.cast(self.high, dtype)
    h, w = self.height, self.width
    raw_size = network.kernel_shape(self.head.layer)[-1]

    blank = {}  # one zero cache per shape: fewer ops to trace
    vcache = {}
    for c in (c for convs in self.row_convs.values() for c in convs):
      key = (c.window, c.in_width, c.in_channels)
      if key not in blank:
        blank[key] = c.empty_cache(batch, dtype)
      vcache[c.name] = blank[key]
    stores = {
        k: tf.zeros([batch, self.widths[k], size], dtype)
        for k, size in enumerate(self._record_sizes)
    }
    row_terms = {
        k: tf.zeros(
            [self.widths[k], batch, sum(c.out_channels for c in convs)], dtype
        )
        for k, convs in self.terms.items()
    }
    images = tf.TensorArray(
        dtype, size=h, element_shape=[w, None, self.channels]
    )
    params = tf.TensorArray(
        dtype, size=h if return_params else 0, element_shape=[w, None, raw_size]
    )
    row_depths = tf.constant(self.row_depths, tf.int32)

    def row_body(i, vcache, stores, row_terms, images, params):
      depth = tf.gather(row_depths, i)
      row = _RowState(
          self,
          weights,
          dict(vcache),
          stores,
          dict(row_terms),
          depth,
          self._up_current(weights, depth),
      )
      v = self.v_init(
          weights[self.v_init.name], row.vcache[self.v_init.name], 0
      )
      self._row_level(0, v, row, {c.name: row.row_term(c) for c in self.h_init})
      # Pixels j < free_from of this row are observed.
      known = (
          None if observed is None else (observed[0][i], observed[1] - i * w)
      )
      pixels, row_params, records = self._pixel_loop(
          weights,
          row,
          gumbel[i],
          logistic[i],
          low,
          high,
          batch,
          return_params,
          layout,
          known,
      )
      images = images.write(i, pixels)
      if return_params:
        params = params.write(i, row_params)
      if progress is not None:
        with tf.control_dependencies([pixels]):
          tf.py_function(progress, [i], [])
      new_stores = {}
      for k, recorded in records.items():
        latest = tf.transpose(recorded[:: 2**k], [1, 0, 2])
        new_stores[k] = (
            latest if k == 0 else tf.where(row.depth >= k, latest, stores[k])
        )
      scaled = tf.transpose(
          mixture.to_network_scale(pixels, low, high), [1, 0, 2]
      )
      name = self.v_init.name
      row.vcache[name] = self.v_init.push(row.vcache[name], scaled)
      return i + 1, row.vcache, new_stores, row.row_terms, images, params

    _, _, _, _, images, params = tf.while_loop(
        lambda i, *_: i < h,
        row_body,
        (tf.constant(0), vcache, stores, row_terms, images, params),
        name="rows",
    )
    samples = tf.transpose(images.stack(), [2, 0, 1, 3])
    if not return_params:
      return samples
    return samples, tf.transpose(params.stack(), [2, 0, 1, 3])

  def _pixel_loop(
      self,
      weights,
      row,
      gumbel_row,
      logistic_row,
      low,
      high,
      batch,
      return_params,
      layout,
      known,
  ):
    """The pixel loop of one full-resolution row.

    `known`: None, or `(values [W, B, C], free_from)`: columns before
    `free_from` keep `values` rather than their draws.

    Returns:
      pixels: [W, B, C] sampled values.
      row_params: [W, B, P] raw head outputs (or None).
      records: {level: [W, B, sum of C_in]}, each level's recorded inputs
        at every column (zeros where it did not run).
    """
    dtype = self.dtype
    carry = layout.carry
    split = layout.carried_sums
    cache = {
        c.name: c.empty_cache(batch, dtype, carry)
        for convs in self.records.values()
        for c in convs
        if not (split and c.can_carry)
    }
    carried = self.sums.empty(batch, dtype) if split else {}
    packing = _CacheLayout(self.records, cache) if layout.pack else None
    if packing is not None:
      cache = {k: packing.pack(cache, k) for k in self.records}
    records = tf.TensorArray(dtype, size=self.width)
    pixels = tf.TensorArray(dtype, size=self.width)
    row_params = tf.TensorArray(dtype, size=self.width if return_params else 0)
    col_depths = tf.constant(self.col_depths, tf.int32)

    def body(j, cache, carried, records, pixels, row_params):
      px = _PixelState(
          self,
          weights,
          dict(cache) if packing is None else packing.unpack(cache[0], 0),
          row,
          j,
          tf.minimum(row.depth, tf.gather(col_depths, j)),
          batch,
          carry,
          packing,
          None if packing is None else {k: cache[k] for k in cache if k > 0},
          dict(carried),
      )
      u = self._pixel_level(
          0, px, lambda p: p.output(self.h_init[0]) + p.output(self.h_init[1])
      )
      raw = Dense.apply(weights[self.head.name], tf.nn.elu(u))
      x, scaled = mixture.sample_pixel(
          mixture.split_params(raw, self.channels, self.num_mix),
          gumbel_row[j],
          logistic_row[j],
          low,
          high,
      )
      if known is not None:
        x = tf.where(j < known[1], known[0][j], x)
        scaled = mixture.to_network_scale(x, low, high)
      for conv in self.h_init:
        px.push(conv, scaled)
      px.record(0, self.records[0])
      # All levels' records in one write (zeros for levels not running).
      records = records.write(
          j, tf.concat([px.recorded[k] for k in range(self.levels)], axis=-1)
      )
      pixels = pixels.write(j, x)
      if return_params:
        row_params = row_params.write(j, raw)
      if packing is None:
        cache = px.cache
      else:
        cache = dict(px.packed)
        cache[0] = packing.pack(px.cache, 0)
      return j + 1, cache, px.carried, records, pixels, row_params

    _, _, _, records, pixels, row_params = tf.while_loop(
        lambda j, *_: j < self.width,
        body,
        (tf.constant(0), cache, carried, records, pixels, row_params),
        name="pixels",
    )
    records = tf.split(records.stack(), self._record_sizes, axis=-1)
    return (
        pixels.stack(),
        row_params.stack() if return_params else None,
        dict(enumerate(records)),
    )


class _CacheLayout:
  """Packs one level's pixel caches into one `[B, n]` tensor, and back.

  A cache is a `[B, m]` tensor or a list of them (`PixelConv.empty_cache`);
  a level's are concatenated in `records` order. Pure data movement: the
  packed path draws the very same images.
  """

  def __init__(self, records, caches):
    self.names = {k: [c.name for c in convs] for k, convs in records.items()}
    self.structure = {
        k: [caches[n] for n in names] for k, names in self.names.items()
    }
    self.widths = {
        k: [int(t.shape[-1]) for t in tf.nest.flatten(s)]
        for k, s in self.structure.items()
    }

  def pack(self, caches, level):
    parts = tf.nest.flatten([caches[n] for n in self.names[level]])
    return tf.concat(parts, axis=-1)

  def unpack(self, packed, level):
    parts = tf.split(packed, self.widths[level], axis=-1)
    caches = tf.nest.pack_sequence_as(self.structure[level], parts)
    return dict(zip(self.names[level], caches))


class _CarriedSums:
  """The "split" layout's partial sums (`PixelConv.ahead`), one tensor a level.

  Level k's is `[B, T + n]`: in the layout of its row terms (`terms[k]`,
  `T` channels), each carried convolution's sum for its next output (zeros
  for the others); then, for windows over 2, the sums further ahead. At a
  pixel the first part is added to the row terms in the op that gathers
  them, and the new tensor is one concat after the level's last
  convolution. So every read of the old sums comes before the new ones are
  written, and XLA updates the loop's buffer in place; carried one by one,
  each convolution's sums were copied out and back in (two copies each, 44
  per QuickDraw pixel at level 0), because the second dot does not wait
  for the read.
  """

  def __init__(self, terms):
    self.terms = terms
    self.tailed = {
        k: [c for c in convs if c.can_carry and c.window > 2]
        for k, convs in terms.items()
    }

  def _tail_widths(self, level):
    return [(c.window - 2) * c.out_channels for c in self.tailed[level]]

  def empty(self, batch, dtype):
    return {
        k: tf.zeros(
            [
                batch,
                sum(c.out_channels for c in convs) + sum(self._tail_widths(k)),
            ],
            dtype,
        )
        for k, convs in self.terms.items()
    }

  def read(self, level, terms, carried):
    """`terms` [B, T] plus the next outputs' sums; and the tails by name."""
    if not self.tailed[level]:
      return terms + carried, {}
    width = terms.shape[-1]
    tails = tf.split(carried[:, width:], self._tail_widths(level), axis=-1)
    names = [c.name for c in self.tailed[level]]
    return terms + carried[:, :width], dict(zip(names, tails))

  def write(self, level, ahead, batch, dtype):
    """The new tensor, from `{name: PixelConv.ahead(...)}`."""
    # [next output, the tail] of each tailed convolution: one split each
    # (a strided slice traces four ops). Window 2: all of `ahead` is the
    # next output's.
    heads, tails = dict(ahead), []
    for c, rest in zip(self.tailed[level], self._tail_widths(level)):
      heads[c.name], tail = tf.split(
          ahead[c.name], [c.out_channels, rest], axis=-1
      )
      tails.append(tail)
    parts = [
        heads[c.name]
        if c.name in heads
        else tf.zeros([batch, c.out_channels], dtype)
        for c in self.terms[level]
    ]
    return tf.concat(parts + tails, axis=-1)


class _RowState:
  """What one row's trace (or one `tf.cond` branch of it) works on.

  `vcache` and `row_terms` are this scope's copies; `stores` (each level's
  latest completed row of recorded inputs) is read-only within a row.
  """

  def __init__(
      self, gen, weights, vcache, stores, row_terms, depth, up_current
  ):
    self.gen = gen
    self.weights = weights
    self.vcache = vcache
    self.stores = stores
    self.row_terms = row_terms
    self.depth = depth  # the deepest level running on this row
    self.up_current = up_current  # see CachedGenerator._up_current
    self._prev_rows = {}

  def branch(self):
    return _RowState(
        self.gen,
        self.weights,
        dict(self.vcache),
        self.stores,
        dict(self.row_terms),
        self.depth,
        self.up_current,
    )

  def row_term(self, conv, phase=0):
    """`conv`'s row term [B, W_out, C_out] on this row."""
    level = self.gen.record_level[conv.name]
    if level not in self._prev_rows:  # one split per level and scope
      convs = self.gen.records[level]
      parts = tf.split(
          self.stores[level], [c.in_channels for c in convs], axis=-1
      )
      self._prev_rows[level] = {c.name: p for c, p in zip(convs, parts)}
    return conv.row_term(
        self.weights[conv.name], self._prev_rows[level][conv.name], phase
    )


class _PixelState:
  """What one pixel's trace (or one `tf.cond` branch of it) works on.

  Holds this scope's copy of the current-row caches, the row terms read at
  this pixel's column, the values recorded for the row stores, and the
  activations already computed (concat_elu costs three ops; skips reuse
  the down path's).
  """

  def __init__(
      self,
      gen,
      weights,
      cache,
      row,
      j,
      depth,
      batch,
      carry,
      packing=None,
      packed=None,
      carried=None,
  ):
    self.gen = gen
    self.carry = carry
    self.weights = weights
    self.cache = cache
    self.row = row
    self.j = j
    self.depth = depth  # the deepest level running at this pixel
    self.batch = batch
    self.terms = {}
    self.pushed = {}
    self.recorded = {}
    self._acts = {}
    # With a `_CacheLayout`: levels > this scope's, one tensor each.
    self.packing = packing
    self.packed = packed
    # With carry "split": each level's carried sums (`_CarriedSums`); and
    # this scope's new sums and older tails, by convolution.
    self.carried = {} if carried is None else carried
    self.ahead = {}
    self.tails = {}

  def branch(self):
    sub = _PixelState(
        self.gen,
        self.weights,
        dict(self.cache),
        self.row,
        self.j,
        self.depth,
        self.batch,
        self.carry,
        self.packing,
        None if self.packed is None else dict(self.packed),
        dict(self.carried),
    )
    sub.terms = dict(self.terms)
    return sub

  def col(self, level):
    """This pixel's column index at `level` (where it runs)."""
    return self.j if level == 0 else tf.bitwise.right_shift(self.j, level)

  def up_phase(self, level):
    """The column parity at `level`, which picks a transposed conv's taps."""
    return tf.bitwise.bitwise_and(self.col(level), 1)

  def act(self, x):
    key = x.ref()
    if key not in self._acts:
      self._acts[key] = self.gen.act(x)
    return self._acts[key]

  def read_terms(self, level, convs):
    """One gather and one split: the row terms of `level` at this column.

    With carried sums, they are added in the same fused op.
    """
    terms = tf.gather(self.row.row_terms[level], self.col(level))
    if level in self.carried:
      terms, tails = self.gen.sums.read(level, terms, self.carried[level])
      self.tails.update(tails)
    parts = tf.split(terms, [c.out_channels for c in convs], axis=-1)
    self.terms.update((c.name, p) for c, p in zip(convs, parts))

  def push(self, conv, value):
    """Adds `value` to `conv`'s current-row cache and to its record."""
    self.cache[conv.name] = conv.push(self.cache[conv.name], value)
    self.pushed[conv.name] = value

  def record(self, level, convs):
    """This pixel's inputs of `convs` (at `level`), concatenated."""
    self.recorded[level] = tf.concat([self.pushed[c.name] for c in convs], -1)

  def carry_sums(self, level):
    """With carried sums, `level`'s new ones, after its last convolution."""
    if level in self.carried:
      self.carried[level] = self.gen.sums.write(
          level, self.ahead, self.batch, self.gen.dtype
      )

  def output(self, conv, col_phase=None):
    """The convolution's output at this pixel (its output level's column).

    Where the taps depend on the row phase (`h_up`), they exist only in
    phase 0 (checked at construction), i.e. on rows where the input level
    runs; elsewhere the row term is the whole output.
    """
    matrix = (
        self.row.up_current[conv.name]
        if conv.geometry.transposed
        else self.weights[conv.name]["current"][0]
    )
    cur = conv.pixel_term(matrix, self.cache[conv.name], col_phase)
    term = self.terms[conv.name]
    return term if cur is None else term + cur

  def step(self, conv, value, extra=None):
    """Feeds a same-level convolution its input here; returns its output.

    `extra`: with carried sums, an input of the current output only,
    multiplied in the same dot (`PixelConv.add_extra_rows`).
    """
    weights = self.weights[conv.name]
    if conv.name in self.cache:
      cur, self.cache[conv.name] = conv.step(
          weights, self.cache[conv.name], value, self.carry, extra
      )
    else:  # carried sums: the term already holds the earlier inputs' part
      cur = conv.current_dot(weights, value, self.carry, extra)
      if weights["later"] is not None:
        tail = self.tails.get(conv.name)
        self.ahead[conv.name] = conv.ahead(weights, value, tail)
    self.pushed[conv.name] = value
    term = self.terms[conv.name]
    return term if cur is None else term + cur
