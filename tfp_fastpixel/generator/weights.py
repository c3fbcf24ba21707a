"""The tensors the generator's loops compute with, read once per call.

Read outside the loops (and, under XLA, before the compiled program), so
that no loop body reads a variable or prepares a matrix, and passed to the
loops as one structure: `{layer name: {...}}`.
"""

import tensorflow as tf

from tfp_fastpixel import cached_layers

Dense = cached_layers.Dense


def read_weights(plan, cond, layout):
  """Every tensor the loops compute with, for one layout.

  Args:
    plan: the generator's `plan.Plan`.
    cond: [B, D] flattened conditional input, or None.
    layout: the `layouts.Layout` of the program these weights are for.

  Returns:
    `{layer name: {...}}`, only what the loops read (each layer's weights;
    a horizontal convolution's are its layout's `conv_weights`): per
    conditional Dense its `term` (`[B, 1, 2F]`, added before each gate);
    for up-path horizontal blocks, the skip Dense split into the halves
    that read the vertical and the horizontal stack (the latter inside
    conv1's current-output dot where conv1 carries sums).
  """
  dense = [plan.head] + [
      d
      for b in plan.blocks
      for d in (b.v_skip, b.h_skip, b.v_cond, b.h_cond)
      if d is not None
  ]
  weights = {c.name: layout.conv_weights(c) for c in plan.pixel_convs()}
  weights.update((c.name, c.read_weights()) for c in plan.all_row_convs())
  weights.update((layer.name, layer.read_weights()) for layer in dense)
  for blk in plan.blocks:
    for dense in (blk.v_cond, blk.h_cond):
      if dense is not None:  # its term is all the loops read
        term = tf.expand_dims(Dense.apply(weights[dense.name], cond), 1)
        weights[dense.name] = {"term": term}
  for blk in (b for lvl in plan.up for b in lvl):
    skip = weights[blk.h_skip.name]
    skip["v_half"], skip["h_half"] = Dense.split_concat_input(
        skip.pop("kernel"), plan.activation
    )
    # Where conv1 carries sums, its current-output dot also takes the
    # skip's horizontal half (`pixels.h_block`): one dot rather than two.
    if layout.carries(blk.h_conv1):
      layout.add_extra_rows(weights[blk.h_conv1.name], skip.pop("h_half"))
  return weights


def up_current(plan, weights, row_depth):
  """`{h_up[k] name: current-row matrix, zeroed unless level k+1 runs}`.

  A transposed h_up[k] has current-row taps only in row phase 0, i.e. on
  rows where level k+1 runs (checked by the plan); gating its weights once
  per row keeps the pixel loop free of that test.
  """
  gated = {}
  for k, conv in enumerate(plan.h_up):
    current = weights[conv.name]["current"][0]
    gated[conv.name] = (
        None
        if current is None
        else (current * tf.cast(row_depth > k, current.dtype))
    )
  return gated


def cond_term(weights, dense):
  """What a conditional Dense adds before a gate (0 when unconditional)."""
  return 0.0 if dense is None else weights[dense.name]["term"]
