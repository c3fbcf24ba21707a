"""The row pass: the vertical stack, one whole row per level.

At the start of full-resolution row i, every level k with 2^k | i computes
its vertical-stack row (whole width, `RowConv`s), then the row-wide part
of each of its horizontal convolutions (`PixelConv.row_term`), which the
pixels of the row then read one column at a time. Deeper levels run inside
a `tf.cond`, which takes and returns only their state.
"""

import tensorflow as tf

from tfp_fastpixel import cached_layers
from tfp_fastpixel import network
from tfp_fastpixel.generator import weights as weights_lib

Dense = cached_layers.Dense


class RowState:
  """What one row's trace (or one `tf.cond` branch of it) works on.

  `vcache` and `row_terms` are this scope's copies; `stores` (each level's
  latest completed row of recorded inputs) is read-only within a row.
  """

  def __init__(self, plan, weights, vcache, stores, row_terms, depth):
    self.plan = plan
    self.weights = weights
    self.vcache = vcache
    self.stores = stores
    self.row_terms = row_terms
    self.depth = depth  # the deepest level running on this row
    self._prev_rows = {}

  def branch(self):
    return RowState(
        self.plan,
        self.weights,
        dict(self.vcache),
        self.stores,
        dict(self.row_terms),
        self.depth,
    )

  def row_term(self, conv, phase=0):
    """`conv`'s row term [B, W_out, C_out] on this row."""
    level = self.plan.record_level[conv.name]
    if level not in self._prev_rows:  # one split per level and scope
      convs = self.plan.records[level]
      parts = tf.split(
          self.stores[level], [c.in_channels for c in convs], axis=-1
      )
      self._prev_rows[level] = {c.name: p for c, p in zip(convs, parts)}
    return conv.row_term(
        self.weights[conv.name], self._prev_rows[level][conv.name], phase
    )


def v_block(plan, weights, blk, x, skip, vcache):
  """Gated resnet block of the vertical stack, for one whole row."""
  act = plan.act
  name1, name2 = blk.v_conv1.name, blk.v_conv2.name
  vcache[name1] = blk.v_conv1.push(vcache[name1], act(x))
  y = blk.v_conv1(weights[name1], vcache[name1], 0)
  if skip is not None:
    y += Dense.apply(weights[blk.v_skip.name], act(skip))
  vcache[name2] = blk.v_conv2.push(vcache[name2], act(y))
  y = blk.v_conv2(weights[name2], vcache[name2], 0)
  return x + network.gate(y + weights_lib.cond_term(weights, blk.v_cond))


def row_level(plan, k, v, row, terms):
  """Level k's vertical stack on a row where it runs.

  Computes the row terms of every pixel convolution whose output is at
  level k (into `row.row_terms[k]`) and returns level k's up-path row.
  `terms` already holds those of the convolutions fed from level k-1.
  """
  w = row.weights
  cond_term = weights_lib.cond_term
  skips = [v]
  for blk in plan.down[k]:
    v = v_block(plan, w, blk, v, None, row.vcache)
    skips.append(v)
    terms[blk.h_conv1.name] = row.row_term(blk.h_conv1) + Dense.apply(
        w[blk.h_skip.name], plan.act(v)
    )
    terms[blk.h_conv2.name] = row.row_term(blk.h_conv2) + cond_term(
        w, blk.h_cond
    )
  if k < plan.levels - 1:
    name = plan.v_down[k].name
    row.vcache[name] = plan.v_down[k].push(row.vcache[name], v)
    u, terms[plan.h_up[k].name] = _deeper_rows(plan, k, row)
  else:
    u = skips.pop()
  for blk in plan.up[k]:
    u = v_block(plan, w, blk, u, skips.pop(), row.vcache)
    skip = w[blk.h_skip.name]
    v_part = Dense.apply(skip, plan.act(u), kernel=skip["v_half"])
    terms[blk.h_conv1.name] = row.row_term(blk.h_conv1) + v_part
    terms[blk.h_conv2.name] = row.row_term(blk.h_conv2) + cond_term(
        w, blk.h_cond
    )
  if k > 0:
    name = plan.v_up[k - 1].name
    row.vcache[name] = plan.v_up[k - 1].push(row.vcache[name], u)
  # Each term is [B, W_k, C_out]; one concat and one transpose for all.
  row.row_terms[k] = tf.transpose(
      tf.concat([terms[c.name] for c in plan.terms[k]], axis=-1), [1, 0, 2]
  )  # [W_k, B, sum of C_out]
  return u


def _deeper_rows(plan, k, row):
  """Levels > k on this row if level k+1 runs; and level k's up input.

  Level k's up path reads level k+1 through a transposed convolution, in
  row phase 0 where level k+1 runs on this row and phase 1 where it does
  not, so each branch knows its phase statically. Only state of levels
  > k goes through the `tf.cond`.
  """
  names = [
      c.name
      for deeper in range(k + 1, plan.levels)
      for c in plan.row_convs[deeper]
  ]
  levels = range(k + 1, plan.levels)
  v_up, h_up = plan.v_up[k], plan.h_up[k]

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
    down = plan.v_down[k]
    v = down(sub.weights[down.name], sub.vcache[down.name], 0)
    row_level(
        plan,
        k + 1,
        v,
        sub,
        {plan.h_down[k].name: sub.row_term(plan.h_down[k])},
    )
    return out(sub, 0)

  vcache, row_terms, u, term = tf.cond(row.depth > k, run, lambda: out(row, 1))
  row.vcache.update(vcache)
  row.row_terms.update(row_terms)
  return u, term
