"""The pixel pass: the horizontal stack at one pixel, level by level.

At pixel (i, j), every level k with 2^k | i and 2^k | j computes its
horizontal stack at one position: down from level 0, back up. Each level
reads its row terms at the pixel's column with one gather and one split,
adds its current-row taps through the layout's `step`, and records its
convolutions' inputs (for the next row's row terms) with one concat.
Deeper levels run inside a `tf.cond` that takes and returns only their
state, as the layout carries it.
"""

import dataclasses

import tensorflow as tf

from tfp_fastpixel import network


@dataclasses.dataclass(frozen=True)
class Pixel:
  """What is fixed at one pixel: the plan, layout and weights, the row's
  results, and where the pixel is.

  Attributes:
    row_terms: `{level: [W_k, B, T]}`, the row pass's row terms.
    up_current: `weights.up_current` on this row.
    j: the full-resolution column (a scalar tensor).
    depth: the deepest level running at this pixel.
  """

  plan: object
  layout: object
  weights: dict
  row_terms: dict
  up_current: dict
  j: object
  depth: object
  batch: object

  def col(self, level):
    """This pixel's column index at `level` (where it runs)."""
    return self.j if level == 0 else tf.bitwise.right_shift(self.j, level)

  def up_phase(self, level):
    """The column parity at `level`, which picks a transposed conv's taps."""
    return tf.bitwise.bitwise_and(self.col(level), 1)


class Scope:
  """One trace scope's working values at a pixel (the loop body's, or a
  `tf.cond` branch's).

  Attributes:
    levels: `{level: state}` as the layout carries it, for the levels this
      scope has not opened (or has closed).
    cache: `{name: cache}` of the convolutions of the opened levels.
    terms: `{name: [B, C_out]}`, row terms read at this pixel.
    pushed, recorded: the convolutions' inputs here, by name and, joined,
      by level (for the row stores).
    acts: activations already computed (concat_elu costs three ops; skips
      reuse the down path's).
  """

  def __init__(self, levels, cache=None, terms=None):
    self.levels = levels
    self.cache = {} if cache is None else cache
    self.terms = {} if terms is None else terms
    self.pushed = {}
    self.recorded = {}
    self.acts = {}

  def branch(self):
    return Scope(dict(self.levels), dict(self.cache), dict(self.terms))


def act(px, s, x):
  key = x.ref()
  if key not in s.acts:
    s.acts[key] = px.plan.act(x)
  return s.acts[key]


def open_level(px, s, level):
  """Opens `level`'s caches, and reads its row terms at this column."""
  terms = tf.gather(px.row_terms[level], px.col(level))
  caches, terms = px.layout.open_level(px.plan, level, s.levels[level], terms)
  s.cache.update(caches)
  convs = px.plan.terms[level]
  parts = tf.split(terms, [c.out_channels for c in convs], axis=-1)
  s.terms.update((c.name, p) for c, p in zip(convs, parts))


def close_level(px, s, level):
  """`level`'s new state, once all its convolutions have had their input."""
  s.levels[level] = px.layout.close_level(
      px.plan, level, s.cache, px.batch, px.plan.dtype
  )


def push(s, conv, value):
  """Adds `value` to `conv`'s input cache and to its record."""
  s.cache[conv.name] = conv.push(s.cache[conv.name], value)
  s.pushed[conv.name] = value


def record(px, s, level):
  """This pixel's inputs of `level`'s recorded convolutions, concatenated."""
  convs = px.plan.records[level]
  s.recorded[level] = tf.concat([s.pushed[c.name] for c in convs], -1)


def output(px, s, conv, col_phase=None):
  """A convolution's output at this pixel (its output level's column).

  Where the taps depend on the row phase (`h_up`), they exist only in
  phase 0 (checked by the plan), i.e. on rows where the input level runs;
  elsewhere the row term is the whole output.
  """
  matrix = (
      px.up_current[conv.name]
      if conv.geometry.transposed
      else px.weights[conv.name]["current"][0]
  )
  cur = conv.pixel_term(matrix, s.cache[conv.name], col_phase)
  term = s.terms[conv.name]
  return term if cur is None else term + cur


def step(px, s, conv, value, extra=None):
  """Feeds a same-level convolution its input here; returns its output."""
  cur, s.cache[conv.name] = px.layout.step(
      conv, px.weights[conv.name], s.cache[conv.name], value, extra
  )
  s.pushed[conv.name] = value
  term = s.terms[conv.name]
  return term if cur is None else term + cur


def h_block(px, s, blk, x, skip=None):
  """Gated resnet block of the horizontal stack, at one pixel."""
  if skip is None:
    y = step(px, s, blk.h_conv1, act(px, s, x))
  elif px.layout.carries(blk.h_conv1):
    # One dot for conv1's current taps and the skip's horizontal half
    # (whose vertical half is in the row term): [act(x), act(skip)] @
    # [[taps], [h_half, 0]].
    y = step(px, s, blk.h_conv1, act(px, s, x), extra=act(px, s, skip))
  else:
    y = step(px, s, blk.h_conv1, act(px, s, x)) + tf.matmul(
        act(px, s, skip), px.weights[blk.h_skip.name]["h_half"]
    )
  y = step(px, s, blk.h_conv2, act(px, s, y))
  return x + network.gate(y)


def pixel_level(px, s, k, first):
  """Level k's work at this pixel; `first(s)` gives its first value.

  Runs the down blocks, the deeper levels where this pixel reaches them,
  then the up blocks. Returns level k's up-path output; the caller closes
  the level once its last input is pushed.
  """
  plan = px.plan
  open_level(px, s, k)
  h = first(s)
  skips = [h]
  for blk in plan.down[k]:
    h = h_block(px, s, blk, h)
    skips.append(h)
  if k < plan.levels - 1:
    push(s, plan.h_down[k], h)
    _deeper_pixel(px, s, k)
    u = output(px, s, plan.h_up[k], px.up_phase(k))
  else:
    u = skips.pop()
  for blk in plan.up[k]:
    u = h_block(px, s, blk, u, skip=skips.pop())
  if k > 0:
    push(s, plan.h_up[k - 1], u)
    record(px, s, k)
  return u


def _deeper_pixel(px, s, k):
  """Levels > k at this pixel, if its row and column reach level k+1.

  Only the state of levels > k changes, so only that goes through the
  `tf.cond`; it also returns what those levels record (zeros where they do
  not run), which the pixel loop writes outside any cond.
  """
  plan = px.plan
  levels = range(k + 1, plan.levels)

  def run():
    sub = s.branch()
    pixel_level(px, sub, k + 1, lambda t: output(px, t, plan.h_down[k]))
    close_level(px, sub, k + 1)
    return {d: sub.levels[d] for d in levels}, [sub.recorded[d] for d in levels]

  def skip():
    zeros = [
        tf.zeros([px.batch, plan.record_sizes[d]], plan.dtype) for d in levels
    ]
    return {d: s.levels[d] for d in levels}, zeros

  states, records = tf.cond(px.depth > k, run, skip)
  s.levels.update(states)
  # Level k reads level k+1's h_up cache after the cond.
  s.cache.update(px.layout.level_caches(plan, k + 1, states[k + 1]))
  s.recorded.update(zip(levels, records))
