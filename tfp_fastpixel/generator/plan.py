"""Which cached layer runs where: the generator's plan of a TFP PixelCNN.

Built once per distribution from the network's structure alone (it holds no
tensors): the cached layers of both stacks at every level, which level's
pixel records each horizontal convolution's input and which level's row
terms hold its output, and which levels run on each row and column.
"""

import dataclasses

from tfp_fastpixel import cached_layers
from tfp_fastpixel import network

Dense = cached_layers.Dense


def _depth(index, num_levels):
  """Deepest level k (< num_levels) with 2^k dividing a row/column index."""
  k = 0
  while k + 1 < num_levels and index % 2 ** (k + 1) == 0:
    k += 1
  return k


@dataclasses.dataclass(frozen=True)
class Block:
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


class Plan:
  """The cached layers of one `tfd.PixelCNN`, by level and role.

  Attributes (besides the distribution's parameters):
    v_init, h_init: the image-facing convolutions (a lag of one pixel).
    down, up: per level, its `Block`s on the way down and back up.
    v_down, h_down: per level k < K-1, the convolutions to level k+1;
      v_up, h_up: from level k+1 back to k.
    head: the Dense layer that gives the mixture parameters.
    records: per level, the pixel convolutions whose input is at that
      level, in the order a pixel records their inputs.
    terms: per level, the pixel convolutions whose output is at that level,
      in the order of the level's row terms.
    row_convs: per level, the row convolutions whose input is at that level.
    row_depths, col_depths: per row and column index, the deepest level
      that runs there.
  """

  def __init__(self, dist):
    params = dist.parameters
    self.levels = params["num_hierarchies"]
    self.activation = params["resnet_activation"]
    self.act = network.activation_fn(self.activation)
    self.num_mix = params["num_logistic_mix"]
    self.low, self.high = params["low"], params["high"]
    self.height, self.width, self.channels = dist.image_shape.as_list()
    self.dtype = dist.dtype
    plan = network.NetworkPlan.from_network(
        dist.network, conditional=dist.conditional_shape is not None
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
            Block.build(vb, hb, *size[k])
            for vb, hb in zip(lvl.v_blocks, lvl.h_blocks)
        ]
        for k, lvl in enumerate(plan.down)
    ]
    self.up = [
        [
            Block.build(vb, hb, *size[k])
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
    self.record_sizes = [
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

  def pixel_convs(self):
    """Every horizontal convolution, once."""
    return [c for convs in self.records.values() for c in convs]

  def all_row_convs(self):
    """Every vertical convolution, once."""
    return [c for convs in self.row_convs.values() for c in convs]
