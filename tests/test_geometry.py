"""geometry.py's tap tables agree with what TF's convolutions actually read.

For every masked convolution kind in TFP's network, an impulse at each input
position shows which outputs read it; the geometry must predict exactly that
set, including 'same' padding, strides and the transposed layers' phases.
"""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from tfp_fastpixel import FastPixelCNN
from tfp_fastpixel import geometry
from tfp_fastpixel import network


def _measured_reads(conv, mask, in_h, in_w):
  """{(output position, input position)} by impulses through TF's op."""
  transposed = geometry.conv_geometry(conv, in_h, in_w).transposed
  kernel = tf.constant(mask[:, :, None, None], tf.float32)
  stride = conv.strides[0]
  reads = set()
  for p in itertools.product(range(in_h), range(in_w)):
    x = np.zeros([1, in_h, in_w, 1], np.float32)
    x[0, p[0], p[1], 0] = 1.0
    if transposed:
      y = tf.nn.conv2d_transpose(
          x, kernel, [1, in_h * stride, in_w * stride, 1], stride, "SAME"
      )
    else:
      y = tf.nn.conv2d(x, kernel, stride, "SAME")
    for o in zip(*np.nonzero(y.numpy()[0, :, :, 0])):
      reads.add((tuple(int(i) for i in o), p))
  return reads


def _predicted_reads(geom, out_h, out_w, in_h, in_w, lag):
  """The same set, from the geometry's taps."""
  reads = set()
  for o in itertools.product(range(out_h), range(out_w)):
    base = [i // 2 if geom.transposed else i * geom.stride for i in o]
    rows = geom.row_taps[o[0] % len(geom.row_taps)]
    cols = geom.col_taps[o[1] % len(geom.col_taps)]
    for (a, off_r, _), (b, off_c, _) in itertools.product(rows, cols):
      p = (base[0] + off_r - lag, base[1] + off_c - lag)
      if geom.mask[a, b] and 0 <= p[0] < in_h and 0 <= p[1] < in_w:
        reads.add((o, p))
  return reads


@pytest.mark.parametrize("receptive_field_dims", [(3, 3), (3, 5), (5, 3)])
def test_taps_match_tf_convolutions(receptive_field_dims):
  dist = FastPixelCNN(
      image_shape=(8, 8, 1),
      num_resnet=1,
      num_hierarchies=2,
      num_filters=2,
      num_logistic_mix=1,
      receptive_field_dims=receptive_field_dims,
  )
  plan = network.NetworkPlan.from_network(dist.network, conditional=False)
  blk_v, blk_h = plan.down[0].v_blocks[0], plan.down[0].h_blocks[0]
  cases = [  # (layer, input size, output size, lag, vertical stack?)
      (plan.v_init, 8, 8, 1, True),
      (plan.h_init_up, 8, 8, 1, False),
      (plan.h_init_left, 8, 8, 1, False),
      (blk_v.conv1, 8, 8, 0, True),
      (blk_h.conv1, 8, 8, 0, False),
      (plan.v_down[0], 8, 4, 0, True),
      (plan.h_down[0], 8, 4, 0, False),
      (plan.v_up[0], 4, 8, 0, True),
      (plan.h_up[0], 4, 8, 0, False),
  ]
  for layer, n_in, n_out, lag, vertical in cases:
    conv = network.unwrap(layer)
    geom = geometry.conv_geometry(conv, n_in, n_in, lag)
    measured = _measured_reads(conv, geom.mask.astype(np.float32), n_in, n_in)
    predicted = _predicted_reads(geom, n_out, n_out, n_in, n_in, lag)
    assert measured == predicted, conv.name
    # Causality, as the cached layers rely on it, on the finer grid: the
    # vertical stack reads no later row, the horizontal stack no later pixel
    # in raster order; neither reads the image at the output position.
    scale = n_out / n_in
    for o, p in measured:
      p_fine = (p[0] * scale, p[1] * scale) if scale >= 1 else p
      o_fine = o if scale >= 1 else (o[0] / scale, o[1] / scale)
      if vertical:
        p_fine, o_fine = p_fine[:1], o_fine[:1]
      assert p_fine < o_fine or (not lag and p_fine == o_fine), (
          conv.name,
          o,
          p,
      )
