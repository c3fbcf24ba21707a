"""TFP's PixelCNN network, seen layer by layer.

`tfd.PixelCNN` builds its network (`_PixelCNNNetwork`) as one Keras
functional model. The cached sampler needs each weight layer by its role
(vertical or horizontal stack, which block, which level), so `NetworkPlan`
replays the order in which TFP's `build` creates its layers and matches it
against the layers themselves. This module also owns what we change about
TFP's weights: masks enforced from construction, and a data-dependent
initialisation that cannot blow up dead channels; and how fast TFP builds
the network (`untraced_build`).
"""

import contextlib
import dataclasses
import re
import threading

import tensorflow as tf
from tensorflow_probability.python.layers import weight_norm as weight_norm_lib
import tf_keras

WeightNorm = weight_norm_lib.WeightNorm


def activation_fn(name):
  """The resnet activation TFP uses (`concat_elu` doubles the channels)."""
  if name == "concat_elu":
    return lambda x: tf.nn.elu(tf.concat([x, -x], axis=-1))
  return tf_keras.activations.get(name)


def gate(x):
  """`a * sigmoid(b)` for `x = [a, b]` on the last axis: TFP's gate.

  Written as softplus's gradient, which is `a * sigmoid(b)`: one op, which
  XLA's bridge lowers directly, where it lowers `tf.sigmoid` through an
  MLIR pipeline of its own for each op (7-10 ms each when the core is
  compiled; QuickDraw's has 64).
  """
  a, b = tf.split(x, 2, axis=-1)
  return tf.raw_ops.SoftplusGrad(gradients=a, features=b)


@dataclasses.dataclass
class Block:
  """One gated resnet layer of one stack (TFP's Figure 2 of [2]).

  `out = x + gate(conv2(act(conv1(act(x)) + skip)) + cond)`, where `skip` is
  `skip_dense(act(...))` (None for down-path vertical blocks) and `cond` is
  `cond_dense(conditional_input)` (None when unconditional).
  """

  conv1: object
  skip_dense: object
  conv2: object
  cond_dense: object


@dataclasses.dataclass
class Level:
  """The vertical and horizontal blocks of one resolution level."""

  v_blocks: list
  h_blocks: list


@dataclasses.dataclass
class NetworkPlan:
  """TFP's weight layers by role.

  Attributes:
    v_init, h_init_up, h_init_left: the first convolutions on the image.
    down: per level 0..K-1, the downward-pass blocks.
    v_down, h_down: per level 0..K-2, the stride-2 convolutions to level+1.
    up: per level 0..K-1, the upward-pass blocks (level K-1 runs first).
    v_up, h_up: per level 0..K-2, the transposed convolutions from level+1.
    head: the final Dense producing the mixture parameters.
  """

  v_init: object
  h_init_up: object
  h_init_left: object
  down: list
  v_down: list
  h_down: list
  up: list
  v_up: list
  h_up: list
  head: object

  @classmethod
  def from_network(cls, network, conditional):
    """Matches `network`'s layers to TFP's creation order."""
    layers = _weight_layers_in_creation_order(network)
    k = network._num_hierarchies
    n = network._num_resnet

    def take(kind):
      queue = layers[kind]
      if not queue:
        raise ValueError(
            "tfd.PixelCNN network has fewer layers than "
            "expected; unsupported TFP version?"
        )
      return queue.pop(0)

    def block(with_skip):
      conv1 = take("conv")
      skip = take("dense") if with_skip else None
      conv2 = take("conv")
      cond = take("dense") if conditional else None
      return Block(conv1, skip, conv2, cond)

    v_init, h_init_up, h_init_left = take("conv"), take("conv"), take("conv")
    down, v_down, h_down = [], [], []
    for level in range(k):
      lvl = Level([], [])
      for _ in range(n):
        lvl.v_blocks.append(block(with_skip=False))
        lvl.h_blocks.append(block(with_skip=True))
      down.append(lvl)
      if level < k - 1:
        v_down.append(take("conv"))
        h_down.append(take("conv"))
    up = [None] * k
    v_up, h_up = [None] * (k - 1), [None] * (k - 1)
    for i in range(k):
      level = k - 1 - i
      lvl = Level([], [])
      for _ in range(n if i == 0 else n + 1):
        lvl.v_blocks.append(block(with_skip=True))
        lvl.h_blocks.append(block(with_skip=True))
      up[level] = lvl
      if level > 0:
        v_up[level - 1] = take("transpose")
        h_up[level - 1] = take("transpose")
    head = take("dense")
    if any(layers.values()):
      raise ValueError(
          "tfd.PixelCNN network has more layers than expected; "
          "unsupported TFP version?"
      )
    return cls(
        v_init,
        h_init_up,
        h_init_left,
        down,
        v_down,
        h_down,
        up,
        v_up,
        h_up,
        head,
    )


def _uid(layer):
  # Keras names layers `conv2d`, `conv2d_1`, ... in creation order.
  match = re.fullmatch(r".*?(?:_(\d+))?", layer.name)
  return int(match.group(1) or 0)


def _weight_layers_in_creation_order(network):
  """TFP's Conv2D, Conv2DTranspose and Dense layers, each kind by age."""
  layers = {"conv": [], "transpose": [], "dense": []}
  for layer in network._network.layers:
    inner = unwrap(layer)
    if isinstance(inner, tf_keras.layers.Conv2DTranspose):
      layers["transpose"].append(layer)
    elif isinstance(inner, tf_keras.layers.Conv2D):
      layers["conv"].append(layer)
    elif isinstance(inner, tf_keras.layers.Dense):
      layers["dense"].append(layer)
  for kind in layers:
    layers[kind].sort(key=lambda layer: _uid(unwrap(layer)))
  return layers


def unwrap(layer):
  """The Keras layer inside TFP's WeightNorm wrapper (or the layer itself)."""
  return layer.layer if isinstance(layer, WeightNorm) else layer


def kernel_and_bias(layer):
  """The kernel and bias `layer` computes with, as tensors.

  For a WeightNorm layer this is `g * v / ||v||`, exactly as the wrapper
  computes it on each call. Read inside a `tf.function`, it follows the
  variables, so training does not force a retrace.
  """
  if isinstance(layer, WeightNorm):
    g = tf.convert_to_tensor(layer.g)
    if layer.filter_axis != -1:  # [C_out] broadcasts alone on the last axis
      g = tf.expand_dims(g, -layer.filter_axis - 3)
    kernel = tf.nn.l2_normalize(layer.v, axis=layer.kernel_norm_axes) * g
    return kernel, layer.layer.bias
  return tf.convert_to_tensor(layer.kernel), layer.bias


def kernel_shape(layer):
  """The kernel's static shape (`v`'s for a WeightNorm layer)."""
  var = layer.v if isinstance(layer, WeightNorm) else layer.kernel
  return var.shape.as_list()


def uninitialized_weight_norms(network):
  """The WeightNorm layers that can still need their data-dependent init.

  All of them: whether each is initialised is a variable, read by the
  caller (eagerly as a bool, in a graph as a tensor).
  """
  return [
      layer
      for layer in network._network.layers
      if isinstance(layer, WeightNorm)
  ]


def _masked_kernel_variables(network):
  """(variable, constraint) for every kernel TFP masks."""
  out = []
  for layer in network._network.layers:
    inner = unwrap(layer)
    constraint = getattr(inner, "kernel_constraint", None)
    if constraint is None:
      continue
    var = layer.v if isinstance(layer, WeightNorm) else inner.kernel
    out.append((var, constraint))
  return out


def enforce_masks(network):
  """Zeroes the masked kernel taps, as TFP's optimizer does after a step.

  TFP applies its autoregressive masks only through `kernel_constraint`, so
  an untrained `tfd.PixelCNN` is not autoregressive. This makes it so.

  Returns:
    The assignments (ops to run, in a `tf.compat.v1` graph).
  """
  return [
      var.assign(constraint(var))
      for var, constraint in _masked_kernel_variables(network)
  ]


def readiness_check(network):
  """`() -> (masks hold, every WeightNorm initialised)`, as bool tensors.

  What sampling needs settled, read in one graph call. Read eagerly,
  kernel by kernel through NumPy, it cost 0.18 s of every `sample()` on
  the QuickDraw model (139 kernels) and 7-18 ms on the small benchmark model.
  """
  pairs = _masked_kernel_variables(network)
  norms = uninitialized_weight_norms(network)

  def check():
    held = [tf.reduce_all(tf.equal(mask(var), var)) for var, mask in pairs]
    done = [tf.convert_to_tensor(layer.initialized) for layer in norms]
    return tf.reduce_all([True] + held), tf.reduce_all([True] + done)

  return tf.function(check, autograph=False)


def masks_hold(network):
  """True if every masked kernel tap is exactly zero."""
  return bool(readiness_check(network)()[0])


def guard_data_init(network, min_variance=1e-2):
  """Makes weight norm's data-dependent init leave (nearly) dead channels be.

  With masks enforced, a channel can see only zero padding (tiny images, deep
  levels), or only the label, so its pre-activations have no or tiny
  variance over the init batch. TFP would scale it by up to
  `1 / sqrt(0 + 1e-10) = 1e5`, and training diverges; even a 10x cap left a
  2x2 conditional model stuck. Here channels with variance below
  `min_variance` keep their scale (only their bias centres them); the rest
  are initialised exactly as in TFP.

  Keras has already built the functional model (`untraced_build`), so the
  guard replaces each wrapper's `call` on the instance.
  """
  for layer in network._network.layers:
    if isinstance(layer, WeightNorm):
      layer.call = _guarded_call(layer, min_variance)


_BUILD_LOCK = threading.RLock()  # a build inside a build restores in turn


def _output_only_call(wrapper, inputs):
  wrapper._compute_weights()  # the inner layer's kernel, `g * v / ||v||`
  return wrapper.layer(inputs)


@contextlib.contextmanager
def untraced_build():
  """While open, Keras builds TFP's WeightNorm layers without tracing them.

  Keras builds a functional model by calling each layer once on symbolic
  inputs, only to learn its output's shape and dtype. TFP's `WeightNorm.call`
  is a `tf.function` whose init sits in a `tf.cond`, so that one call traces
  a graph per layer: most of a `tfd.PixelCNN`'s construction (TFP's
  default CIFAR-10 model: 13.2 s for `tfd.PixelCNN`, 5.5 s for
  FastPixelCNN without them; `benchmarks/construction.py`).
  `guard_data_init` then replaces every wrapper's call, so those traces
  would never run. While open, the class's call is the weight-normed inner
  layer alone (the same output spec), and it is restored on exit;
  constructions are serialised so that none restores another's.
  """
  with _BUILD_LOCK:
    traced = WeightNorm.__dict__["call"]
    WeightNorm.call = _output_only_call
    try:
      yield
    finally:
      WeightNorm.call = traced


@contextlib.contextmanager
def initialized_calls(network):
  """While open, WeightNorm layers skip their init check when traced.

  For graphs traced once the weights are initialised, such as an export's
  `log_prob`: each layer's init check is a `tf.cond` holding a copy of the
  layer and its init, which would make up most of the saved graph. Checks
  that every layer is initialised; the guarded calls return on exit.
  """
  layers = uninitialized_weight_norms(network)
  if not all(bool(layer.initialized) for layer in layers):
    raise ValueError(
        "weight norm is not initialised yet; sample or score once first"
    )
  guarded = {layer: layer.call for layer in layers}

  def ready_call(wrapper):
    def call(inputs):
      wrapper._compute_weights()
      return wrapper.layer(inputs)

    return call

  try:
    for layer in layers:
      layer.call = ready_call(layer)
    yield
  finally:
    for layer, call in guarded.items():
      layer.call = call


def _guarded_call(wrapper, min_variance):
  """WeightNorm's call (init on first use, then `g * v / ||v||`), guarded."""

  def data_dep_init(inputs):
    wrapper._compute_weights()
    inner = wrapper.layer
    activation, bias = inner.activation, inner.bias
    inner.activation, inner.bias = None, tf.zeros_like(bias)
    x_init = inner(inputs)
    inner.activation, inner.bias = activation, bias
    mean, var = tf.nn.moments(x_init, list(range(x_init.shape.rank - 1)))
    scale = tf.where(
        var >= min_variance, tf.math.rsqrt(var + 1e-10), tf.ones_like(var)
    )
    wrapper.g.assign(wrapper.g * scale)
    bias.assign(-mean * scale)

  def init(inputs):
    if wrapper.data_init:
      data_dep_init(inputs)
    else:
      wrapper._init_norm()
    wrapper.initialized.assign(True)
    return tf.constant(True)

  def call(inputs):  # tf.cond works eagerly and in graphs alike
    done = tf.cond(
        wrapper.initialized, lambda: tf.constant(True), lambda: init(inputs)
    )
    with tf.control_dependencies([done]):
      wrapper._compute_weights()
      return wrapper.layer(inputs)

  return call
