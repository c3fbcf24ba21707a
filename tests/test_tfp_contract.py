"""What tfp_fastpixel relies on in TFP's PixelCNN, pinned in one place.

`network.py` is the only module that reads TFP's private attributes. These
tests pin the behaviour it depends on, so that a TFP upgrade that changes it
fails here, loudly, rather than as a subtly wrong sampler.
"""

import inspect

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_fastpixel import network

tfd = tfp.distributions


def _tfp_dist(**kwargs):
  return tfd.PixelCNN(
      **dict(
          dict(
              image_shape=(4, 4, 1),
              num_resnet=1,
              num_hierarchies=2,
              num_filters=3,
              num_logistic_mix=2,
          ),
          **kwargs,
      )
  )


def test_layer_creation_order_matches_the_network_plan():
  """NetworkPlan replays TFP's `build`; the kernels' shapes give it away."""
  dist = _tfp_dist(conditional_shape=())
  plan = network.NetworkPlan.from_network(dist.network, conditional=True)
  f = 3
  shape = network.kernel_shape
  # Receptive field (3, 3): the image-facing kernels are (2*3-1, 3) and
  # (3, 3); the inner ones (2*3-3, 3) and (3, 3), all centred and masked.
  assert shape(plan.v_init) == [5, 3, 1, f]
  assert shape(plan.h_init_up) == [3, 3, 1, f]
  assert shape(plan.h_init_left) == [3, 3, 1, f]
  assert shape(plan.down[0].v_blocks[0].conv1)[:2] == [3, 3]
  for lvl in plan.down + plan.up:
    for block in lvl.v_blocks + lvl.h_blocks:
      # concat_elu doubles conv1's input; conv2 outputs both gate halves.
      assert shape(block.conv1)[2:] == [2 * f, f]
      assert shape(block.conv2)[2:] == [2 * f, 2 * f]
      assert shape(block.cond_dense) == [1, 2 * f]
  assert all(shape(b.skip_dense) == [2 * f, f] for b in plan.down[0].h_blocks)
  assert [len(lvl.v_blocks) for lvl in plan.up] == [2, 1]  # n, then n + 1
  assert network.unwrap(plan.v_up[0]).strides == (2, 2)
  assert shape(plan.head) == [f, 2 * 3]  # mix 2 x (logit, loc, scale)
  assert dist.network._num_resnet == 1
  assert dist.network._num_hierarchies == 2


def test_weight_norm_attributes_and_data_init():
  """guard_data_init re-implements WeightNorm's init with these."""
  dist = _tfp_dist()
  layers = network.uninitialized_weight_norms(dist.network)
  assert layers, "TFP no longer wraps its layers in WeightNorm"
  for name in (
      "g",
      "v",
      "initialized",
      "data_init",
      "layer",
      "filter_axis",
      "kernel_norm_axes",
      "_compute_weights",
      "_init_norm",
  ):
    assert hasattr(layers[0], name), name
  for layer in layers:
    assert not bool(layer.initialized)
  x = tf.random.stateless_uniform([2, 4, 4, 1], [1, 2], -1.0, 1.0)
  dist.log_prob(x)  # TFP's own init, on the first call
  layer = layers[0]
  assert bool(layer.initialized)
  # The kernel TFP computes is g * v / ||v||, which kernel_and_bias reads.
  kernel, _ = network.kernel_and_bias(layer)
  layer._compute_weights()
  np.testing.assert_allclose(kernel, layer.layer.kernel, rtol=1e-6, atol=1e-7)
  assert "inputs" in inspect.signature(layer._data_dep_init).parameters


def test_kernel_constraints_are_the_autoregressive_masks():
  """TFP masks only through kernel_constraint (so only after a step)."""
  dist = _tfp_dist()
  plan = network.NetworkPlan.from_network(dist.network, conditional=False)

  def mask(layer):
    kernel = np.ones(network.kernel_shape(layer))
    return np.asarray(network.unwrap(layer).kernel_constraint(kernel))[
        :, :, 0, 0
    ]

  # Centre tap at the kernel's middle: v_init sees the rows above; h_left the
  # pixels to the left in this row and the row above; h_up the row above.
  np.testing.assert_array_equal(
      mask(plan.v_init), [[1] * 3] * 2 + [[0] * 3] * 3
  )
  np.testing.assert_array_equal(
      mask(plan.h_init_left), [[1, 0, 0], [1, 0, 0], [0, 0, 0]]
  )
  np.testing.assert_array_equal(
      mask(plan.h_init_up), [[1, 1, 1], [0, 0, 0], [0, 0, 0]]
  )
  # An untrained TFP network breaks the masks; enforce_masks makes them hold.
  assert not network.masks_hold(dist.network)
  network.enforce_masks(dist.network)
  assert network.masks_hold(dist.network)
