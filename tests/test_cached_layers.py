"""Each layout's pixel convolution gives the layer's own output.

A layout decides what a horizontal convolution carries from pixel to pixel:
its recent inputs (`graph`), or partial sums from a current-output dot and
a later-outputs dot, one tensor a level (`xla_cpu`), or from one dot by all
taps, each level's caches packed into one tensor (`xla_accelerator`). Fed
one row pixel by pixel through a one-convolution level (open, step,
close), each must give what TFP's layer computes for that row, with window
2 (3x3 receptive field) and window 3 (3x5: the partial sums shift by a
column).
"""

import types

import numpy as np
import pytest
import tensorflow as tf

from tfp_fastpixel import FastPixelCNN
from tfp_fastpixel import cached_layers
from tfp_fastpixel import layouts
from tfp_fastpixel import network
from tfp_fastpixel.generator import jacobi

BATCH, HEIGHT, WIDTH = 3, 4, 7


def _one_conv_level(receptive_field_dims):
  """A block's conv1 of a tiny model, its layer, a plan of one level and
  the model's network plan."""
  dist = FastPixelCNN(
      image_shape=(HEIGHT, WIDTH, 1),
      num_resnet=1,
      num_hierarchies=1,
      num_filters=4,
      num_logistic_mix=1,
      receptive_field_dims=receptive_field_dims,
  )
  dist.log_prob(tf.zeros([1, HEIGHT, WIDTH, 1]))  # builds the network
  plan = network.NetworkPlan.from_network(dist.network, conditional=False)
  layer = plan.down[0].h_blocks[0].conv1
  conv = cached_layers.PixelConv(layer, HEIGHT, WIDTH)
  level = types.SimpleNamespace(records={0: [conv]}, terms={0: [conv]})
  return conv, layer, level, plan


def _run_row(layout, conv, level, row):
  """`conv`'s current-row part at each column of `row`, [B, W, C_out]."""
  weights = layout.conv_weights(conv)
  state = layout.empty_level(level, 0, BATCH, tf.float32)
  zero_terms = tf.zeros([BATCH, conv.out_channels])
  got = []
  for j in range(WIDTH):
    caches, terms = layout.open_level(level, 0, state, zero_terms)
    cur, caches[conv.name] = layout.step(
        conv, weights, caches[conv.name], tf.constant(row[:, j])
    )
    got.append((terms + cur).numpy())
    state = layout.close_level(level, 0, caches, BATCH, tf.float32)
  return np.stack(got, 1)


def _row_and_expected(conv, layer):
  """A random input row, and the layer's current-row taps on it."""
  rng = np.random.default_rng(0)
  row = rng.normal(size=[BATCH, WIDTH, conv.in_channels]).astype(np.float32)
  # The layer on an image whose only nonzero row is `row`: at that row, its
  # output is the current-row taps plus the bias.
  image = np.zeros([BATCH, HEIGHT, WIDTH, conv.in_channels], np.float32)
  image[:, 1] = row
  bias = conv.read_weights()["bias"]
  return row, (layer(tf.constant(image))[:, 1] - bias).numpy()


@pytest.mark.parametrize("receptive_field_dims", [(3, 3), (3, 5)])
def test_each_layout_gives_the_layers_output(receptive_field_dims):
  conv, layer, level, _ = _one_conv_level(receptive_field_dims)
  assert conv.can_carry
  assert conv.window == receptive_field_dims[1] // 2 + 1
  row, expected = _row_and_expected(conv, layer)

  for name, layout in layouts.LAYOUTS.items():
    if layout.row_parallel:
      got = _jacobi_row(layout, conv, row)
    else:
      assert layout.carries(conv) == (name != "graph")
      got = _run_row(layout, conv, level, row)
    np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=name)


def _jacobi_row(layout, conv, row):
  """The current-row taps at every column of `row` at once, as a Jacobi
  pass computes them (its row term zero)."""
  ps = jacobi._Pass(None, {conv.name: layout.conv_weights(conv)}, None, None)
  ps.terms[conv.name] = tf.zeros([WIDTH, BATCH, conv.out_channels])
  out = ps.same_level(conv, tf.constant(np.transpose(row, [1, 0, 2])))
  return np.transpose(out.numpy(), [1, 0, 2])


def test_split_sums_are_read_back_from_the_level_state():
  # A wrong state is caught: mid-row, the split layout without the sums
  # its level carried gives the current taps alone.
  conv, layer, level, _ = _one_conv_level((3, 5))
  row, expected = _row_and_expected(conv, layer)
  layout = layouts.LAYOUTS["xla_cpu"]
  weights = layout.conv_weights(conv)
  zero = layout.empty_level(level, 0, BATCH, tf.float32)
  caches, terms = layout.open_level(
      level, 0, zero, tf.zeros([BATCH, conv.out_channels])
  )
  cur, _ = layout.step(conv, weights, caches[conv.name], tf.constant(row[:, 3]))
  assert np.abs((terms + cur).numpy() - expected[:, 3]).max() > 1e-3


def test_layouts_refuse_what_they_cannot_do():
  conv, _, level, plan = _one_conv_level((3, 3))
  graph = layouts.LAYOUTS["graph"]
  weights = graph.conv_weights(conv)
  cache = graph.empty_level(level, 0, BATCH, tf.float32)[conv.name]
  value = tf.zeros([BATCH, conv.in_channels])
  with pytest.raises(ValueError, match="extra"):
    graph.step(conv, weights, cache, value, extra=value)
  init = cached_layers.PixelConv(plan.h_init_left, HEIGHT, WIDTH, lag=1)
  assert not init.can_carry
  with pytest.raises(ValueError, match="cannot carry"):
    init.read_slot_taps()
