"""What the generator's pixel loop carries from pixel to pixel, per program.

The generator runs as one of four programs (`_execution.PROGRAMS`). They
compute the same values, and so draw the same images (up to float rounding,
which can tip a rare pixel); the first three differ only in what the loops
carry from pixel to pixel, which decides how many ops or kernels a pixel
costs on the device that runs it, and the fourth draws a row at a time.
Each is one `Layout`; `LAYOUTS` names them, and the executor picks one per
call.

* `graph` (`InputCaches`): each horizontal convolution carries its recent
  inputs, and a pixel multiplies them by all its taps in one matmul. Graph
  mode dispatches every op from the host, so the fewest ops win.
* `xla_cpu` (`SplitSums`): same-level convolutions carry partial sums
  instead: each input is multiplied once, by the taps of the current output
  (on the pixel's dependent chain) and, in a second dot that nothing reads
  until the next pixel, by those of later outputs, which XLA's CPU runtime
  runs on another core. Each level's sums travel as one tensor, so XLA
  updates them in place.
* `xla_accelerator` (`FusedSums`): partial sums from one dot by all taps
  side by side (a GPU launches its kernels one after another, so the fewest
  kernels win), and each level's caches travel as one tensor: XLA copies
  loop and conditional state it cannot update in place, and on a GPU every
  copy is a launch.
* `xla_jacobi` (`JacobiRows`): each row by Jacobi passes over the whole
  row, to its exact fixed point (`generator.jacobi`): k passes for a row
  rather than W pixel steps, each pass W times the arithmetic. For
  accelerators, where a step is bound by launch latency; chosen only by
  `_execution.with_program`.

A layout holds no tensors and nothing about a model: the generator's plan
(`generator.plan.Plan`: `records` and `terms`, each level's horizontal
convolutions by input and by output level) is passed to it.
"""

import tensorflow as tf


class Layout:
  """One program's choices for the pixel loop; the interface the loops call.

  Per horizontal convolution: what it carries (`carries`), the matrices it
  steps with (`conv_weights`) and its step (`step`). Per level: the state
  the pixel loop carries for it (`empty_level`), and how a pixel opens it
  into a cache per convolution (`open_level`, `level_caches`) and closes it
  (`close_level`). By default each convolution caches its recent inputs
  and a level's state is its caches by name; subclasses override what
  differs.
  """

  name = None
  # Whether a row is drawn by Jacobi passes over the whole row
  # (`generator.jacobi`) rather than pixel by pixel; then nothing travels
  # from pixel to pixel, and only `conv_weights` applies.
  row_parallel = False

  def carries(self, conv):
    """Whether `conv` carries partial sums rather than its recent inputs."""
    del conv
    return False

  def conv_weights(self, conv):
    """What `conv`'s steps compute with, read once per call."""
    if self.carries(conv):
      return self._sums_weights(conv)
    return conv.read_weights()

  def step(self, conv, weights, cache, value, extra=None):
    """Feeds `conv` its input `value` [B, C_in] at the output's column.

    Args:
      conv: a same-level `cached_layers.PixelConv`.
      weights: `conv_weights(conv)`, with `add_extra_rows` where `extra`
        is given.
      cache: what `open_level` gave for `conv`.
      value: [B, C_in].
      extra: only where `carries(conv)`: an input [B, C_extra] of the
        current output alone, multiplied in the same dot.

    Returns:
      The current-row taps' part of the output [B, C_out] (or None, if
      there are none), and the new cache.
    """
    if self.carries(conv):
      return self._step_sums(conv, weights, cache, value, extra)
    if extra is not None:
      raise ValueError(f"{conv.name}: `extra` needs carried sums.")
    cache = conv.push(cache, value)
    return conv.pixel_term(weights["current"][0], cache), cache

  def empty_caches(self, convs, batch, dtype):
    """`{name: zeros}`: what each of `convs` carries before a row."""
    return {
        c.name: (
            self._empty_sums(c, batch, dtype)
            if self.carries(c)
            else c.empty_cache(batch, dtype)
        )
        for c in convs
    }

  def empty_level(self, plan, level, batch, dtype):
    """Level `level`'s state at the start of a row (plain tensors)."""
    return self.empty_caches(plan.records[level], batch, dtype)

  def open_level(self, plan, level, state, terms):
    """A pixel's caches of `level`'s convolutions, and its row terms.

    Args:
      plan: the generator's plan.
      level: the level.
      state: as made by `empty_level` or `close_level`.
      terms: `[B, T]`, the level's row terms at this pixel's column.

    Returns:
      `({name: cache}, terms)`; the terms with whatever the state adds.
    """
    return self.level_caches(plan, level, state), terms

  def level_caches(self, plan, level, state):
    """`{name: cache}` of `level`'s convolutions that carry inputs."""
    del plan, level
    return dict(state)

  def close_level(self, plan, level, caches, batch, dtype):
    """Level `level`'s new state, from the pixel's `caches` by name."""
    del batch, dtype
    return {c.name: caches[c.name] for c in plan.records[level]}


class InputCaches(Layout):
  """`graph`: every horizontal convolution carries its recent inputs."""

  name = "graph"


class _CarriedSums(Layout):
  """What both partial-sum layouts share: which convolutions carry sums,
  and the dot that gives the current output (`_current` names its matrix).

  Each says how it multiplies (`_sums_weights`, `_step_sums`) and, where a
  convolution's sums are a cache of its own, their zeros (`_empty_sums`).
  """

  _current = None

  def carries(self, conv):
    return conv.can_carry

  def add_extra_rows(self, weights, rows):
    """Makes `step(..., extra=...)` take an input of the current output only.

    In `weights` (`conv_weights(conv)`), replaces the current-output dot's
    matrix by one with `rows` [C_extra, C_out] appended below it (zeros
    where the dot also gives later outputs); `step` then needs `extra`.
    """
    matrix = weights.pop(self._current)
    rows = tf.pad(rows, [[0, 0], [0, matrix.shape[1] - rows.shape[1]]])
    weights[self._current + "_extra"] = tf.concat([matrix, rows], 0)

  def _current_dot(self, weights, value, extra):
    current = self._current
    if extra is not None:
      value = tf.concat([value, extra], axis=-1)
      current += "_extra"
    return tf.matmul(value, weights[current])


class SplitSums(_CarriedSums):
  """`xla_cpu`: a dot by the current output's taps, one by the later ones'.

  Weights: `now` [C_in, C_out] and `later` [C_in, (window - 1) * C_out] (or
  None). A carrying convolution's sums for its next `window - 1` outputs
  ("ahead", the next first) live in its level's state, one tensor a level
  `[B, T + n]`: in the layout of the level's row terms (`plan.terms`, `T`
  channels), each carrying convolution's sum for its next output (zeros
  for the others); then, for windows over 2, the sums further ahead (its
  "tail"). Opening a level adds the first part to the row terms in the op
  that gathers them and hands each convolution its tail as its cache; its
  step returns its new sums ahead, and closing the level concatenates them
  after the level's last convolution. So every read of the old sums comes
  before the new ones are written, and XLA updates the loop's buffer in
  place; carried one by one, each convolution's sums were copied out and
  back in (two copies each, 44 per QuickDraw pixel at level 0), because
  the second dot does not wait for the read.

  The rest of a level's state: the input caches of the convolutions that
  do not carry, by name.
  """

  name = "xla_cpu"
  _current = "now"

  def _sums_weights(self, conv):
    weights, blocks = conv.read_slot_taps()
    weights["now"] = blocks[0]
    weights["later"] = tf.concat(blocks[1:], axis=1) if blocks[1:] else None
    return weights

  def _step_sums(self, conv, weights, tail, value, extra):
    out = self._current_dot(weights, value, extra)
    if weights["later"] is None:
      return out, None
    ahead = tf.matmul(value, weights["later"])
    if conv.window > 2:  # the older inputs' sums, one column nearer
      ahead += tf.pad(tail, [[0, 0], [0, conv.out_channels]])
    return out, ahead

  def _tailed(self, plan, level):
    """`level`'s carrying convolutions with sums two or more columns ahead."""
    return [c for c in plan.terms[level] if self.carries(c) and c.window > 2]

  def _tail_widths(self, plan, level):
    return [(c.window - 2) * c.out_channels for c in self._tailed(plan, level)]

  def empty_level(self, plan, level, batch, dtype):
    convs = plan.records[level]
    width = sum(c.out_channels for c in plan.terms[level])
    sums = tf.zeros([batch, width + sum(self._tail_widths(plan, level))], dtype)
    inputs = [c for c in convs if not self.carries(c)]
    return self.empty_caches(inputs, batch, dtype), sums

  def open_level(self, plan, level, state, terms):
    inputs, sums = state
    caches = {c.name: None for c in plan.records[level] if self.carries(c)}
    caches.update(inputs)
    if not self._tailed(plan, level):
      return caches, terms + sums
    width = terms.shape[-1]
    tails = tf.split(sums[:, width:], self._tail_widths(plan, level), axis=-1)
    caches.update((c.name, t) for c, t in zip(self._tailed(plan, level), tails))
    return caches, terms + sums[:, :width]

  def level_caches(self, plan, level, state):
    del plan, level
    return dict(state[0])

  def close_level(self, plan, level, caches, batch, dtype):
    inputs = {
        c.name: caches[c.name]
        for c in plan.records[level]
        if not self.carries(c)
    }
    # [next output, the tail] of each tailed convolution: one split each
    # (a strided slice traces four ops). Window 2: all of its sums ahead
    # are the next output's.
    heads, tails = {}, []
    for c in plan.terms[level]:
      if self.carries(c) and caches.get(c.name) is not None:
        heads[c.name] = caches[c.name]
    for c, rest in zip(
        self._tailed(plan, level), self._tail_widths(plan, level)
    ):
      heads[c.name], tail = tf.split(
          heads[c.name], [c.out_channels, rest], axis=-1
      )
      tails.append(tail)
    parts = [
        heads[c.name]
        if c.name in heads
        else tf.zeros([batch, c.out_channels], dtype)
        for c in plan.terms[level]
    ]
    return inputs, tf.concat(parts + tails, axis=-1)


class FusedSums(_CarriedSums):
  """`xla_accelerator`: one dot by all taps; each level's caches one tensor.

  Weights: `spread` [C_in, window * C_out], the taps of every output an
  input reaches. A carrying convolution's cache: the latest `window - 1`
  products, each `[B, window * C_out]` (newest first). A level's state: all
  its caches concatenated (`plan.records` order) into one `[B, n]` tensor,
  split back when a pixel opens the level. Pure data movement: the packed
  state draws the very same images, and the cond and the loop move one
  buffer per level rather than one per cache (54 of the 72 copies in the
  QuickDraw model's pixel body, unpacked).
  """

  name = "xla_accelerator"
  _current = "spread"

  def _sums_weights(self, conv):
    weights, blocks = conv.read_slot_taps()
    weights["spread"] = tf.concat(blocks, axis=1)
    return weights

  def _empty_sums(self, conv, batch, dtype):
    return [
        tf.zeros([batch, conv.window * conv.out_channels], dtype)
        for _ in range(conv.window - 1)
    ]

  def _step_sums(self, conv, weights, cache, value, extra):
    c = conv.out_channels
    product = self._current_dot(weights, value, extra)
    out = product[:, :c]
    for d, older in enumerate(cache, 1):  # products of earlier columns
      out += older[:, d * c : (d + 1) * c]
    return out, ([product] + cache)[: conv.window - 1]

  def empty_level(self, plan, level, batch, dtype):
    caches = self.empty_caches(plan.records[level], batch, dtype)
    return self.close_level(plan, level, caches, batch, dtype)

  def level_caches(self, plan, level, state):
    convs = plan.records[level]
    structure = [self._widths(c) for c in convs]
    parts = tf.split(state, tf.nest.flatten(structure), axis=-1)
    caches = tf.nest.pack_sequence_as(structure, parts)
    return {c.name: cache for c, cache in zip(convs, caches)}

  def close_level(self, plan, level, caches, batch, dtype):
    del batch, dtype
    parts = tf.nest.flatten([caches[c.name] for c in plan.records[level]])
    return tf.concat(parts, axis=-1)

  def _widths(self, conv):
    """The widths of `conv`'s cache, in its structure (one, or a list)."""
    if self.carries(conv):
      return [conv.window * conv.out_channels] * (conv.window - 1)
    return conv.window * conv.in_channels


class JacobiRows(Layout):
  """`xla_jacobi`: a row at a time, by Jacobi passes over the whole row.

  Nothing travels from pixel to pixel: each pass runs the horizontal stack
  over the whole row (`generator.jacobi`), multiplying each input row by
  all of a convolution's current-row taps side by side (`spread`).

  Args:
    max_passes: the most passes a row takes; None for its width, which is
      what makes every row exact. Fewer only make a wrong sampler, which
      the tests must reject.
  """

  name = "xla_jacobi"
  row_parallel = True

  def __init__(self, max_passes=None):
    self.max_passes = max_passes

  def conv_weights(self, conv):
    """Adds `spread` [C_in, window * C_out], each input slot's taps side by
    side (oldest first), for a pass's one dot per convolution; transposed
    convolutions keep their taps by column parity."""
    weights = conv.read_weights()
    current = weights["current"][0] if weights["current"] else None
    if conv.geometry.transposed or current is None:
      return weights
    slots = tf.split(current, conv.window, axis=0)  # [C_in, C_out] each
    weights["spread"] = tf.concat(slots, axis=1)
    del weights["current"]
    return weights


LAYOUTS = {
    layout.name: layout
    for layout in (InputCaches(), SplitSums(), FusedSums(), JacobiRows())
}
