"""A pixel convolution's three ways of caching give the layer's own output.

`PixelConv.step` keeps the row being generated as an input cache (graph
mode) or carries partial sums, from one dot by all taps ("fused", the
accelerator layout) or from a current-output dot and a later-outputs dot
("split", the CPU layout). Fed one row pixel by pixel, each must give what
TFP's layer computes for that row, with window 2 (3x3 receptive field) and
window 3 (3x5: the partial sums shift by a column).
"""

import numpy as np
import pytest
import tensorflow as tf

from tfp_fastpixel import FastPixelCNN
from tfp_fastpixel import cached_layers
from tfp_fastpixel import network

BATCH, HEIGHT, WIDTH = 3, 4, 7


@pytest.mark.parametrize("receptive_field_dims", [(3, 3), (3, 5)])
def test_carried_sums_match_the_layer(receptive_field_dims):
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
  assert conv.can_carry
  assert conv.window == receptive_field_dims[1] // 2 + 1

  rng = np.random.default_rng(0)
  row = rng.normal(size=[BATCH, WIDTH, conv.in_channels]).astype(np.float32)
  # The layer on an image whose only nonzero row is `row`: at that row, its
  # output is the current-row taps plus the bias.
  image = np.zeros([BATCH, HEIGHT, WIDTH, conv.in_channels], np.float32)
  image[:, 1] = row
  bias = conv.read_weights()["bias"]
  expected = (layer(tf.constant(image))[:, 1] - bias).numpy()

  for carry in (None, "fused", "split"):
    weights = conv.read_weights(carry)
    cache = conv.empty_cache(BATCH, tf.float32, carry)
    got = []
    for j in range(WIDTH):
      out, cache = conv.step(weights, cache, tf.constant(row[:, j]), carry)
      got.append(out.numpy())
    np.testing.assert_allclose(
        np.stack(got, 1), expected, atol=1e-5, err_msg=str(carry)
    )
  # A wrong cache is caught: the split layout without its carried sums.
  weights = conv.read_weights("split")
  zero = conv.empty_cache(BATCH, tf.float32, "split")
  out, _ = conv.step(weights, zero, tf.constant(row[:, 3]), "split")
  assert np.abs(out.numpy() - expected[:, 3]).max() > 1e-3
