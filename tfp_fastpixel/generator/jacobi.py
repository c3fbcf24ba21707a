"""The Jacobi row pass: a whole row at once, iterated to the exact row.

With every position's noise drawn in advance (`mixture.noise`), a pixel is
a deterministic function of the pixels before it. On row i, with the rows
above final (their part is in the row pass's row terms), the row is
therefore the unique fixed point of `x = F(x)`, where F runs the horizontal
stack over the whole row at once on a guess x and draws every pixel, with
its own noise, from the parameters it gets there. Pixel j of F(x) reads
only pixels before j, so pass t makes pixel t-1 right whatever the guess:
the passes reach the fixed point in at most W, and the first pass that
changes nothing proves it was reached (Song et al. 2021, "Accelerating
Feedforward Computation via Parallel Nonlinear Equation Solving"). A row
costs the passes up to that one, and never more than W.

A pass is the pixel pass (`pixels`) with every value a whole row of its
level, `[W_k, B, C]`: a horizontal convolution multiplies the whole input
row by all its current-row taps in one dot, and each output column adds up
the products of the inputs that the pixel loop's cache would hold there
(`_Pass.output`); everything from the rows above comes from the row terms,
as in the pixel loop. A pass's dots have `W_k * B` rows rather than `B`;
where a pixel step is bound by launch latency (a GPU at small batch), a
pass costs about as much as one pixel step, so a row costs k steps rather
than W. On a CPU it multiplies the arithmetic.
"""

import tensorflow as tf

from tfp_fastpixel import cached_layers
from tfp_fastpixel import mixture
from tfp_fastpixel import network

Dense = cached_layers.Dense


class _Pass:
  """One pass's fixed inputs, and the convolutions' inputs it has pushed.

  `pushed[name]`: the input row `[W_k, B, C_in]` a horizontal convolution
  took in this pass, what the pixel loop records for the next row.
  """

  def __init__(self, plan, weights, row_terms, up_current):
    self.plan = plan
    self.weights = weights
    self.row_terms = row_terms
    self.up_current = up_current
    self.terms = {}
    self.pushed = {}

  def open_level(self, level):
    """Splits `level`'s row terms `[W_k, B, T]` by convolution."""
    convs = self.plan.terms[level]
    parts = tf.split(
        self.row_terms[level], [c.out_channels for c in convs], axis=-1
    )
    self.terms.update((c.name, p) for c, p in zip(convs, parts))

  def output(self, conv, inputs, first=0, step=1):
    """`conv`'s output row: its row term plus its current-row taps.

    At output column o, the pixel loop's cache of `conv` ends at input
    column `first + step * o` (-1: nothing pushed yet), and holds the
    `window` inputs up to there, with zeros left of the image.

    Args:
      inputs: `[W_in, B, C_in]`, the input row this pass.
      first, step: where the cache ends, as above.
    """
    self.pushed[conv.name] = inputs
    term = self.terms[conv.name]
    spread = self.weights[conv.name].get("spread")
    if spread is None:  # no taps on the current row
      return term
    # One dot by every tap side by side, [W_in, B, window * C_out]; slot s
    # (oldest first) of output o is input `end(o) - window + 1 + s`'s
    # product with that slot's taps: a strided slice per slot, which fuses
    # into the sum, as the accelerator program's carried sums do.
    window, c_out = conv.window, conv.out_channels
    product = tf.pad(tf.matmul(inputs, spread), [[window, 0], [0, 0], [0, 0]])
    width = term.shape[0]
    out = term
    for slot in range(window):
      begin = first + 1 + slot  # input column n sits at n + window
      rows = product[begin : begin + step * (width - 1) + 1 : step]
      out += rows[..., slot * c_out : (slot + 1) * c_out]
    return out

  def up_output(self, conv, inputs):
    """A transposed `h_up[k]`: output column o at level k reads level k+1
    up to its column o >> 1, with taps by the parity of o (zero taps on
    rows where level k+1 does not run, as the pixel loop's)."""
    self.pushed[conv.name] = inputs
    term = self.terms[conv.name]
    matrix = self.up_current[conv.name]
    if matrix is None:
      return term
    width = term.shape[0]
    window = conv.window
    padded = tf.pad(inputs, [[window, 0], [0, 0], [0, 0]])
    index = [[(o >> 1) + 1 + s for s in range(window)] for o in range(width)]
    cache = tf.transpose(tf.gather(padded, index), [0, 2, 1, 3])
    cache = tf.reshape(
        cache,
        tf.stack([width, tf.shape(inputs)[1], window * conv.in_channels]),
    )
    if matrix.shape.rank == 3:  # the taps by output column parity
      matrix = tf.gather(matrix, [o & 1 for o in range(width)])
    return term + tf.matmul(cache, matrix)

  def same_level(self, conv, inputs):
    """A same-level convolution: its cache ends at the output's column."""
    return self.output(conv, inputs)

  def records(self, level, scaled=None):
    """`level`'s recorded inputs `[W_k, B, sum of C_in]`, in plan order.

    `scaled`: the row's pixels on the network's scale, the image-facing
    convolutions' input (level 0). The pixel loop pushes them after each
    draw, so `row` puts the final pixels there once the passes end.
    """
    pushed = dict(self.pushed)
    if level == 0:
      pushed.update((c.name, scaled) for c in self.plan.h_init)
    return tf.concat([pushed[c.name] for c in self.plan.records[level]], -1)


def _h_block(ps, blk, x, skip=None):
  """Gated resnet block of the horizontal stack, over a whole row."""
  act = ps.plan.act
  y = ps.same_level(blk.h_conv1, act(x))
  if skip is not None:  # the skip's vertical half is in the row term
    y += tf.matmul(act(skip), ps.weights[blk.h_skip.name]["h_half"])
  y = ps.same_level(blk.h_conv2, act(y))
  return x + network.gate(y)


def _level(ps, k, first, depth):
  """Level k's horizontal stack over its row; `first(ps)` its first value.

  Returns level k's up-path output `[W_k, B, C]`, and the records of the
  levels deeper than k (which only their `tf.cond` returns).
  """
  plan = ps.plan
  ps.open_level(k)
  h = first(ps)
  skips = [h]
  for blk in plan.down[k]:
    h = _h_block(ps, blk, h)
    skips.append(h)
  deeper = {}
  if k < plan.levels - 1:
    u_deeper, deeper = _deeper(ps, k, h, depth)
    u = ps.up_output(plan.h_up[k], u_deeper)
  else:
    u = skips.pop()
  for blk in plan.up[k]:
    u = _h_block(ps, blk, u, skip=skips.pop())
  if k > 0:
    ps.pushed[plan.h_up[k - 1].name] = u
  return u, deeper


def _deeper(ps, k, h, depth):
  """Levels > k over their rows, if level k+1 runs on this row.

  Level k+1 reads level k through the strided `h_down[k]`, whose cache at
  level k+1's column c ends at level k's column 2c. Returns level k+1's
  up-path output (zeros where it does not run: `weights.up_current` gates
  `h_up[k]`'s current taps to zero on those rows) and the deeper levels'
  records. Only those go through the `tf.cond`.
  """
  plan = ps.plan
  levels = range(k + 1, plan.levels)
  down = plan.h_down[k]
  ps.pushed[down.name] = h
  width = plan.widths[k + 1]

  def run():
    sub = _Pass(plan, ps.weights, ps.row_terms, ps.up_current)
    u, deeper = _level(
        sub,
        k + 1,
        lambda t: t.output(down, h, step=2),
        depth,
    )
    return u, [sub.records(k + 1)] + [deeper[d] for d in levels[1:]]

  def skip():
    batch = tf.shape(h)[1]
    shapes = [(width, plan.h_up[k].in_channels)] + [
        (plan.widths[d], plan.record_sizes[d]) for d in levels
    ]
    zeros = [tf.zeros(tf.stack([w, batch, c]), h.dtype) for w, c in shapes]
    return zeros[0], zeros[1:]

  u, records = tf.cond(depth > k, run, skip)
  return u, dict(zip(levels, records))


def row(plan, layout, weights, row_terms, up_current, depth, noise, known):
  """One full-resolution row by Jacobi passes, to its exact pixels.

  Args:
    plan, layout, weights: as the pixel loop's.
    row_terms: `{level: [W_k, B, T]}`, the row pass's row terms.
    up_current: `weights.up_current` on this row.
    depth: the deepest level running on this row (a scalar tensor).
    noise: `(gumbel [W, B, M], logistic [W, B, C], low, high)` of the row.
    known: None, or `(values [W, B, C], free_from)`: columns before
      `free_from` keep `values` (they are never drawn).

  Returns:
    pixels: [W, B, C].
    raw: [W, B, P], the head's outputs at the row's pixels.
    records: `{level: [W_k, B, sum of C_in]}`, each level's recorded inputs
      at its columns (zeros where it did not run).
    passes: the passes the row took (int32 scalar).
  """
  gumbel, logistic, low, high = noise
  w, c = plan.width, plan.channels
  size = network.kernel_shape(plan.head.layer)[-1]
  batch = tf.shape(gumbel)[1]
  columns = tf.reshape(tf.range(w), [w, 1, 1])

  def keep_known(x):
    if known is None:
      return x
    return tf.where(columns < known[1], known[0], x)

  def run_pass(x):
    """`F(x)`: the row's draws given the guess x; and what it computed."""
    scaled = mixture.to_network_scale(x, low, high)
    ps = _Pass(plan, weights, row_terms, up_current)
    init = plan.h_init
    u, deeper = _level(
        ps,
        0,
        lambda t: (
            t.output(init[0], scaled, first=-1)
            + t.output(init[1], scaled, first=-1)
        ),
        depth,
    )
    raw = Dense.apply(weights[plan.head.name], tf.nn.elu(u))
    flat = tf.reshape(raw, [-1, size])  # [W * B, P]: one draw per entry
    drawn, _ = mixture.sample_pixel(
        mixture.split_params(flat, c, plan.num_mix),
        tf.reshape(gumbel, [-1, plan.num_mix]),
        tf.reshape(logistic, [-1, c]),
        low,
        high,
    )
    drawn = keep_known(tf.reshape(drawn, [w, batch, c]))
    records = {0: ps.records(0, scaled), **deeper}
    return drawn, raw, [records[k] for k in range(plan.levels)]

  def body(t, x, changed, raw, records):
    del changed, raw, records  # recomputed from x
    drawn, raw, records = run_pass(x)
    changed = tf.reduce_any(tf.not_equal(drawn, x))
    return t + 1, drawn, changed, raw, records

  max_passes = w if layout.max_passes is None else layout.max_passes
  guess = keep_known(tf.fill(tf.stack([w, batch, c]), low))
  empty = [
      tf.zeros(
          tf.stack([plan.widths[k], batch, plan.record_sizes[k]]), low.dtype
      )
      for k in range(plan.levels)
  ]
  passes, pixels, _, raw, records = tf.while_loop(
      lambda t, x, changed, *_: tf.logical_and(t < max_passes, changed),
      body,
      (
          tf.constant(0),
          guess,
          tf.constant(True),
          tf.zeros(tf.stack([w, batch, size]), low.dtype),
          empty,
      ),
      name="jacobi",
  )
  # The records came from the last pass's guess. Where the passes stopped
  # because nothing changed, that guess is the row; where they stopped at
  # W, only the last pixel can differ, and the image-facing convolutions,
  # recorded first at level 0, take it: rebuild their part.
  scaled = mixture.to_network_scale(pixels, low, high)
  n_init = len(plan.h_init) * c
  records[0] = tf.concat(
      [scaled] * len(plan.h_init) + [records[0][..., n_init:]], axis=-1
  )
  return pixels, raw, dict(enumerate(records)), passes
