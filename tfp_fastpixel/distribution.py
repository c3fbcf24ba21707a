"""FastPixelCNN: TFP's PixelCNN with an exact, cached sampler."""

import contextlib
import numbers
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf
from tensorflow.python.eager import context
import tensorflow_probability as tfp
import tf_keras

from tfp_fastpixel import mixture
from tfp_fastpixel import network
from tfp_fastpixel import sampler
from tfp_fastpixel import validation

tfd = tfp.distributions


class FastPixelCNN(tfd.PixelCNN):
  """`tfd.PixelCNN` whose `sample()` is an exact cached generator.

  The network, its weights and `log_prob` are TFP's own: weights move both
  ways with `network.set_weights(other.network.get_weights())`. Two things
  differ, both making the model what `log_prob` already claims it is:

  * The autoregressive masks hold from construction (TFP applies them only
    after the first optimizer step), and weight norm's data-dependent init
    leaves channels that see only padding alone instead of scaling them by
    1e5.
  * `sample()` runs the generator of Ramachandran et al. (2017): each layer
    caches its recent inputs, so a pixel costs O(layers), not a full network
    pass. Its draws are exact: quantized values are fed back, and RGB
    channels are coupled through the quantized earlier channels, which is the
    density `log_prob` scores.

  Args:
    image_shape: `(height, width, channels)`; height and width divisible by
      `2**(num_hierarchies - 1)`. Integral floats (R doubles) are accepted
      here and for every integer argument.
    conditional_shape: shape of the conditional input (e.g. `()` for a
      scalar label), or None.
    num_resnet, num_hierarchies, num_filters, num_logistic_mix,
    receptive_field_dims, dropout_p, resnet_activation, use_weight_norm,
    use_data_init, high, low, dtype, name: as in `tfd.PixelCNN`.
    jit_compile: how `sample()` runs the generator: True, compiled by XLA
      (once per batch size); False, in graph mode; None (default), chosen
      by `uses_xla()`. Not a `tfd.PixelCNN` argument.

  #### Examples

  ```python
  dist = FastPixelCNN(image_shape=(28, 28, 1), conditional_shape=(),
                      num_resnet=5, num_hierarchies=3, num_filters=128,
                      num_logistic_mix=5)
  images = dist.sample(8, conditional_input=3.)          # [8, 28, 28, 1]
  images = dist.sample((4, 3), conditional_input=[1., 2., 3.])  # [4, 3, ...]
  ```
  """

  def __init__(
      self,
      image_shape: Sequence[int],
      conditional_shape: Optional[Sequence[int]] = None,
      num_resnet: int = 5,
      num_hierarchies: int = 3,
      num_filters: int = 160,
      num_logistic_mix: int = 10,
      receptive_field_dims: Tuple[int, int] = (3, 3),
      dropout_p: float = 0.5,
      resnet_activation: str = "concat_elu",
      use_weight_norm: bool = True,
      use_data_init: bool = True,
      high: int = 255,
      low: int = 0,
      dtype: tf.DType = tf.float32,
      name: str = "FastPixelCNN",
      jit_compile: Optional[bool] = None,
  ):
    args = validation.model_arguments(
        **{k: v for k, v in locals().items() if k not in ("self", "__class__")}
    )
    self._jit_compile = args.pop("jit_compile")
    super().__init__(**args)
    network.enforce_masks(self.network)
    network.guard_data_init(self.network)
    self._generator = sampler.CachedGenerator(self)
    # The batch size is a tensor argument and conditional inputs relax to
    # an unknown batch dimension, so new sample sizes do not retrace. The
    # noise is drawn outside the compiled core, so a seed gives the same
    # noise on both paths (XLA's stateless RNG differs from TF's).
    self._generate = tf.function(
        self._traced_generate, autograph=False, reduce_retracing=True
    )
    # XLA compiles its core once per batch size (XLA needs static shapes);
    # the surrounding tf.function is still traced once.
    self._compiled_core = tf.function(
        self._xla_core, autograph=False, jit_compile=True, reduce_retracing=True
    )
    self._readiness = network.readiness_check(self.network)
    self._xla_fns = {}  # see _xla_sampler
    # Whether the compiled core takes the accelerator layout (None: on a GPU
    # or TPU); see `_core_layout`. Read when the core is traced.
    self._pack_caches = None
    self.trace_count = 0  # how often the generator was traced (for tests)

  # TFP's settings, read from its public `parameters` (TFP's private
  # attributes are read only in network.py).
  @property
  def _components(self):
    return self.parameters["num_logistic_mix"]

  @property
  def _pixel_range(self):
    return self.parameters["low"], self.parameters["high"]

  @property
  def jit_compile(self):
    """The constructor's `jit_compile`: None (automatic), True or False."""
    return self._jit_compile

  def uses_xla(self, progress=False):
    """Whether `sample()` runs the XLA-compiled generator.

    `jit_compile=True`/`False` decide. With None (the default): on a GPU or
    TPU, XLA; on a CPU, XLA too, which `benchmarks/benchmark.py` measured
    faster than graph mode, or level with it within run-to-run noise, at
    every model size and batch it runs (see the README). `progress=True`
    always takes the graph path: the progress bar is a host callback, which
    XLA cannot compile.
    """
    if progress:
      return False
    if self._jit_compile is not None:
      return self._jit_compile
    return True

  # -- Sampling ----------------------------------------------------------------

  def sample(self, sample_shape=(), seed=None, name="sample", **kwargs):
    """Draws exact samples: `[*sample_shape, H, W, C]` integer pixels.

    Args:
      sample_shape: int or tuple of ints (integral floats accepted).
      seed: int or stateless seed for reproducible samples; None for fresh
        ones.
      name: op name.
      **kwargs: `conditional_input`, `[*batch, *conditional_shape]`, whose
        batch size divides `prod(sample_shape)`, as in `tfd.PixelCNN`; and
        `progress=True` for a progress bar over image rows.
    """
    return super().sample(
        validation.sample_size(sample_shape), seed=seed, name=name, **kwargs
    )

  def _sample_n(
      self, n, seed=None, conditional_input=None, training=False, progress=False
  ):
    del training  # sampling never uses dropout
    samples, _ = self._run_generator(
        n, seed, conditional_input, False, progress
    )
    return samples

  def sample_with_params(self, n, seed=None, conditional_input=None):
    """Samples and the mixture parameters the generator used at each pixel.

    For checking the generator against one full network pass
    ("teacher forcing"): `self.network(images)` on the returned images must
    give the same parameters.

    Returns:
      samples: `[n, H, W, C]`.
      params: TFP's network outputs `[logits, locs, scales(, coeffs)]`, each
        `[n, H, W, M(, ...)]`.
    """
    samples, raw = self._run_generator(
        validation.as_int("n", n, minimum=0), seed, conditional_input, True
    )
    return samples, mixture.split_params(
        raw, self.image_shape[-1], self._components
    )

  def experimental_sample_and_log_prob(
      self, sample_shape=(), seed=None, name="sample_and_log_prob", **kwargs
  ):
    """Samples, and the log-probability of each, from one generator pass.

    The log-probabilities come from the mixture parameters the generator
    drew each pixel from, so no network pass follows the sampling; they
    equal `log_prob(samples)` (to float precision).

    Returns:
      samples: `[*sample_shape, H, W, C]`.
      log_prob: `[*sample_shape]`.
    """
    return super().experimental_sample_and_log_prob(
        validation.sample_size(sample_shape), seed=seed, name=name, **kwargs
    )

  def _sample_and_log_prob(
      self,
      sample_shape,
      seed,
      conditional_input=None,
      training=False,
      progress=False,
  ):
    del training
    sample_shape = validation.sample_size(sample_shape)
    n = int(np.prod(sample_shape, dtype=np.int64))
    samples, raw = self._run_generator(
        n, seed, conditional_input, True, progress
    )
    log_prob = self._params_log_prob(
        mixture.split_params(raw, self.image_shape[-1], self._components),
        samples,
    )
    return (
        tf.reshape(samples, list(sample_shape) + self.image_shape.as_list()),
        tf.reshape(log_prob, sample_shape),
    )

  def _params_log_prob(self, params, images):
    """log p(images) `[B]` given the network's outputs on them.

    The same computation as `tfd.PixelCNN._log_prob` after its network call:
    each channel's locations are shifted by the earlier channels' values.
    """
    scaled = mixture.to_network_scale(images, *self._pixel_range)
    locs = params[1]
    if self.image_shape[-1] > 1:
      locs = mixture.coupled_locs(locs, params[3], scaled)
    return self._make_mixture_dist(params[0], locs, params[2]).log_prob(images)

  # -- Completion --------------------------------------------------------------

  def complete(
      self,
      images,
      num_observed: Union[int, tf.Tensor],
      sample_shape: Union[int, Sequence[int]] = (),
      seed=None,
      conditional_input=None,
      progress: bool = False,
  ) -> tf.Tensor:
    """Completes images: keeps a raster-order prefix, samples the rest.

    Draws exactly from p(rest | first `num_observed` pixels,
    conditional_input), in one cached generator pass: the observed pixels
    feed the caches instead of being drawn.

    Args:
      images: `[B, H, W, C]` integer pixel values in [low, high] (only the
        observed prefix is read).
      num_observed: how many pixels to keep, in raster order (all channels
        of a pixel together): an int in [0, H*W], or an int32 scalar tensor.
        0 is plain sampling; H*W returns `images`.
      sample_shape: completions per image; int or tuple of ints.
      seed: int or stateless seed, as in `sample`.
      conditional_input: `[B, *conditional_shape]` (one per image), or one
        `[*conditional_shape]` for all; None for unconditional models.
      progress: a progress bar over image rows (runs the graph path).

    Returns:
      `[*sample_shape, B, H, W, C]`, with the observed pixels unchanged.
    """
    sample_shape = validation.sample_size(sample_shape)
    h, w, _ = self.image_shape.as_list()
    images = validation.check_images(
        "images", images, self.image_shape, *self._pixel_range, self.dtype
    )
    num_observed = validation.num_observed(num_observed, h * w)
    batch = images.shape[0]
    copies = int(np.prod(sample_shape, dtype=np.int64))
    cond = validation.conditional_batch(
        conditional_input, self.conditional_shape, batch, self.dtype, exact=True
    )
    if cond is not None:  # image-major within each copy, as `observed`
      cond = tf.reshape(
          tf.tile(cond, [copies, 1]),
          [copies * batch] + self.conditional_shape.as_list(),
      )
    observed = (tf.tile(images, [copies, 1, 1, 1]), num_observed)
    out, _ = self._run_generator(
        copies * batch, seed, cond, False, progress, observed
    )
    return tf.reshape(
        out, list(sample_shape) + [batch, h, w, self.image_shape[-1]]
    )

  def _run_generator(
      self,
      n,
      seed,
      conditional_input,
      return_params,
      progress=False,
      observed=None,
  ):
    """Runs the generator: (samples `[n, H, W, C]`, raw params or None)."""
    n = validation.as_int("n", n, minimum=0)
    cond = validation.conditional_batch(
        conditional_input, self.conditional_shape, n, self.dtype
    )
    if n == 0:  # nothing to generate; keep the shapes
      empty = tf.zeros([0] + self.image_shape.as_list(), self.dtype)
      raw = tf.zeros(
          [0]
          + self.image_shape.as_list()[:2]
          + [self._components * mixture.num_params(self.image_shape[-1])],
          self.dtype,
      )
      return (empty, raw) if return_params else (empty, None)
    ready = self._check_ready(n, cond)
    with tf.control_dependencies(ready):
      out = self.run_generator(
          tf.constant(n, tf.int32),
          seed,
          cond,
          observed,
          return_params,
          bool(progress),
      )
    return out if return_params else (out, None)

  def prepare(self, n=1, conditional_input=None):
    """Checks the masks and initialises weight norm now, as `sample` would.

    For callers that then use `run_generator` (e.g. the export).
    """
    cond = validation.conditional_batch(
        conditional_input, self.conditional_shape, n, self.dtype
    )
    return self._check_ready(n, cond)

  def run_generator(
      self, n, seed, cond, observed=None, return_params=False, progress=False
  ):
    """The generator on tensors, without Python-side checks (see `prepare`).

    Args:
      n: int32 scalar tensor, the batch size.
      seed: int or stateless seed.
      cond: `[n, prod(conditional_shape)]`, or None.
      observed: None, or `(images [n or 1, H, W, C], num_observed)`
        (`complete`).
      return_params: also return the raw head outputs `[n, H, W, P]`.
      progress: a progress bar over rows (graph path).

    Returns:
      samples `[n, H, W, C]` (and the raw params if requested).
    """
    if observed is None:
      observed = self._nothing_observed()
    xla = self.uses_xla(progress)
    if xla and tf.executing_eagerly():
      # Two calls rather than one function around the compiled core: TF
      # then optimises only the inputs' graph, not the core's body as well
      # (about 2 s of a first call on the QuickDraw model).
      return self._xla_sampler(return_params)(
          n, cond, stateless_seed(seed), observed
      )
    args = (n, cond, stateless_seed(seed), return_params, progress, xla)
    # Eagerly, the graph path's first call runs a lighter graph optimiser
    # (2-4 s less on the big models, same steady speed and draws).
    if xla or not tf.executing_eagerly():
      return self._generate(*args, observed)
    with _graph_optimizer():
      return self._generate(*args, observed)

  def _nothing_observed(self):
    """`observed` for plain sampling: completion with nothing observed.

    One traced program serves both, so that an export (which shares it)
    draws the very same images as the live model (a different graph may
    round differently). One blank image, broadcast in the trace: a new n
    does not retrace.
    """
    h, w, c = self.image_shape.as_list()
    return tf.zeros([1, h, w, c], self.dtype), tf.constant(0)

  def core_program(
      self, n, seed=0, conditional_input=None, return_params=False
  ):
    """The XLA-compiled core and its arguments, as `sample(n)` calls it.

    For reading the program rather than sampling (the benchmark's op
    counts, the GPU export): e.g.
    `fn.experimental_get_compiler_ir(*args)(stage="optimized_hlo")`.

    Returns:
      `(fn, args)`: the core's `tf.function` and its arguments
      `(weights, gumbel, logistic, return_params, observed)`, the last
      with nothing observed.
    """
    cond = validation.conditional_batch(
        conditional_input, self.conditional_shape, n, self.dtype
    )
    weights, gumbel, logistic, observed = self._xla_inputs(
        tf.constant(n, tf.int32),
        cond,
        stateless_seed(seed),
        self._nothing_observed(),
    )
    args = (weights, gumbel, logistic, bool(return_params), observed)
    return self._compiled_core, args

  def _xla_sampler(self, return_params):
    """`run_generator`'s XLA path for eager callers, as two concrete calls.

    `fn(n, cond, seed, observed)`: one call draws the noise and reads the
    weights, the next runs the compiled core on them. Traced once for any
    batch size, as `traced_generator`.
    """
    key = bool(return_params)
    if key not in self._xla_fns:
      inputs = tf.function(
          self._xla_inputs, autograph=False
      ).get_concrete_function(*self._generator_specs())
      weights, gumbel, logistic, observed = tf.nest.map_structure(
          lambda t: t if t is None else tf.TensorSpec(t.shape, t.dtype),
          inputs.structured_outputs,
      )
      core = self._compiled_core.get_concrete_function(
          weights, gumbel, logistic, key, observed
      )

      def run(n, cond, seed, observed):
        with _graph_optimizer(off=True):
          out = inputs(n, cond, seed, observed)
        # The inputs' outputs already have the core's types, so skip TF's
        # Python binding and casting of each of the core's 160-600
        # arguments (6 ms of a 60 ms call on the small model, when
        # it took 330).
        flat = [t for t in tf.nest.flatten(out) if t is not None]
        return core._call_flat(flat, core.captured_inputs)

      self._xla_fns[key] = run
    return self._xla_fns[key]

  def traced_generator(self, return_params=False, xla=None):
    """The generator traced once for any batch size, as a concrete function.

    For building other graphs on it (the export): calls of a concrete
    function never retrace, wherever they are traced.

    Returns:
      `fn(n, cond, seed, images, num_observed)` -> samples `[n, H, W, C]`
      (and the raw params if `return_params`); `cond` is absent for
      unconditional models; arguments as in `run_generator`, with an int32
      `[2]` seed. `xla`: the path (default `uses_xla()`).
    """
    n, cond, seed, observed = self._generator_specs()
    return self._generate.get_concrete_function(
        n,
        cond,
        seed,
        return_params,
        False,
        self.uses_xla() if xla is None else bool(xla),
        observed,
    )

  def _generator_specs(self):
    """Specs of `(n, cond, seed, observed)` for any batch size."""
    h, w, c = self.image_shape.as_list()
    cond = None
    if self.conditional_shape is not None:
      size = max(1, self.conditional_shape.num_elements())
      cond = tf.TensorSpec([None, size], self.dtype)
    return (
        tf.TensorSpec([], tf.int32),
        cond,
        tf.TensorSpec([2], tf.int32),
        (
            tf.TensorSpec([None, h, w, c], self.dtype),
            tf.TensorSpec([], tf.int32),
        ),
    )

  def _core_layout(self):
    """`(pack, carry)` for the compiled core's `generate`.

    On an accelerator, each level's caches travel packed and each carried
    convolution is one dot ("fused"): a GPU launches its kernels one after
    another, and packing took 42% off a QuickDraw batch on an H200 (its
    copies of loop state are launches). On a CPU, unpacked (packing cost
    the small model 6-11%), and the taps of later outputs are a second dot
    off the pixel's dependent chain ("split"), which XLA's CPU runtime
    runs on the other core (see the README).
    """
    pack = self._pack_caches
    if pack is None:
      pack = bool(
          tf.config.list_logical_devices("GPU")
          or tf.config.list_logical_devices("TPU")
      )
    return pack, "fused" if pack else "split"

  def _xla_core(self, weights, gumbel, logistic, return_params, observed):
    pack, carry = self._core_layout()
    return self._generator.generate(
        weights,
        gumbel,
        logistic,
        return_params,
        carry=carry,
        observed=observed,
        pack=pack,
    )

  def _xla_inputs(self, n, cond, seed, observed):
    """`_traced_inputs` for the compiled core (its layout's weights)."""
    return self._traced_inputs(n, cond, seed, observed, xla=True)

  def _traced_inputs(self, n, cond, seed, observed, xla):
    """What the generator takes: (weights, gumbel, logistic, observed).

    The weights are read for the path that takes them: the compiled core's
    layout (`xla`), or the graph path's.
    """
    self.trace_count += 1
    h, w, c = self.image_shape.as_list()
    gumbel, logistic = mixture.noise(
        seed, [h, w, n], self._components, c, self.dtype
    )
    if observed is not None:  # [B, H, W, C] -> [H, W, B, C], as the noise
      images = tf.broadcast_to(observed[0], tf.stack([n, h, w, c]))
      observed = (
          tf.transpose(images, [1, 2, 0, 3]),
          tf.cast(observed[1], tf.int32),
      )
    carry = self._core_layout()[1] if xla else None
    weights = self._generator.read_weights(cond, carry)
    return weights, gumbel, logistic, observed

  def _traced_generate(
      self, n, cond, seed, return_params, progress, xla, observed=None
  ):
    weights, gumbel, logistic, observed = self._traced_inputs(
        n, cond, seed, observed, xla
    )
    if xla:
      return self._compiled_core(
          weights, gumbel, logistic, return_params, observed
      )
    bar = _RowProgress(self.image_shape[0]) if progress else None
    return self._generator.generate(
        weights, gumbel, logistic, return_params, bar, observed=observed
    )

  def _check_ready(self, n, cond):
    """Masks must hold, and weight norm must be initialised, before sampling.

    Eagerly both are settled here. In a graph (`tf.compat.v1` or inside a
    user's `tf.function`) neither can be known while building it, and a
    v1 variable initialiser undoes the constructor's masks; so this returns
    control dependencies for the generator: the masks re-applied (a no-op on
    masked weights), then a network pass on noise that runs only while some
    WeightNorm layer is still uninitialised.
    """
    if not tf.executing_eagerly():
      pending = network.uninitialized_weight_norms(self.network)
      with tf.control_dependencies(network.enforce_masks(self.network)):
        if not pending:
          return [tf.constant(True)]
        flags = [tf.convert_to_tensor(wn.initialized) for wn in pending]
        return [
            tf.cond(
                tf.reduce_all(flags),
                lambda: tf.constant(True),
                lambda: self._init_pass(n, cond),
            )
        ]
    with _graph_optimizer(off=True):
      masks_hold, initialized = self._readiness()
    if not masks_hold:
      raise ValueError(
          "The network weights break the autoregressive masks (e.g. copied "
          "from an untrained tfd.PixelCNN), so no sampler can match "
          "log_prob. Call `tfp_fastpixel.network.enforce_masks(dist.network)`"
          " or use `from_pixelcnn`."
      )
    if not initialized:
      self._init_pass(n, cond)
    return []

  def _init_pass(self, n, cond):
    """One network pass on noise images, which initialises weight norm.

    TFP's sampler initialises on uniform noise; so do we, so that both start
    from the same weights.
    """
    batch = max(n, 1)
    noise = tf.random.uniform(
        [batch] + self.image_shape.as_list(), -1.0, 1.0, dtype=self.dtype
    )
    inputs = noise
    if cond is not None:
      inputs = [
          noise,
          tf.reshape(
              cond if n else cond[:1], [batch] + list(self.conditional_shape)
          ),
      ]
    out = self.network(inputs, training=False)
    with tf.control_dependencies(tf.nest.flatten(out)):
      return tf.constant(True)

  # -- Scoring -----------------------------------------------------------------

  def _log_prob(self, value, conditional_input=None, training=None):
    value = tf.convert_to_tensor(value, dtype_hint=self.dtype)
    validation.check_event_shape(
        "value", value.shape, self.image_shape, "image_shape"
    )
    validation.check_conditioning(conditional_input, self.conditional_shape)
    if conditional_input is not None:
      validation.check_event_shape(
          "conditional_input",
          tf.convert_to_tensor(conditional_input).shape,
          self.conditional_shape,
          "conditional_shape",
      )
    return super()._log_prob(
        value, conditional_input=conditional_input, training=training
    )


class _RowProgress:
  """A Keras progress bar over image rows, fed from inside the graph."""

  def __init__(self, rows):
    self.rows = rows
    self.bar = None

  def __call__(self, row):
    if int(row) == 0:
      self.bar = tf_keras.utils.Progbar(self.rows, unit_name="row")
    self.bar.update(int(row) + 1)


# Grappler passes that cost a new model's graph path seconds of its first
# call and bought no steady speed (README, "First call"). The remapper,
# which fuses each matmul or convolution with its bias, stays on: without it
# QuickDraw's steady call was 19% slower.
_LEAN_OFF = (
    "constant_folding",
    "arithmetic_optimization",
    "dependency_optimization",
    "layout_optimizer",
    "shape_optimization",
    "loop_optimization",
    "function_optimization",
    "debug_stripper",
    "common_subgraph_elimination",
    "implementation_selector",
    "pin_to_host_optimization",
)


@contextlib.contextmanager
def _graph_optimizer(off=False):
  """Eager tf.function calls on this thread run less of Grappler.

  Grappler rewrites a function's graph on its first call, twice over by
  default. By default the passes in `_LEAN_OFF` are off (the generator's
  graph path: about 13k ops in nested loop bodies, where most of that is
  wasted). `off=True`: Grappler is off altogether, for the small graphs
  around the XLA core that run once per `sample()` (reading and preparing
  the weights, the readiness check), which it only delays: 1.6 s of the
  QuickDraw model's first call, with the same steady time and draws.
  The options are TF's per-thread call options (private API, hence the
  fallback), restored on exit: other threads and other calls keep theirs.
  """
  ctx = context.context()
  old = getattr(ctx, "function_call_options", None)
  if old is None:
    yield
    return
  config = tf.compat.v1.ConfigProto()
  if old.config_proto_serialized:
    config.ParseFromString(old.config_proto_serialized)
  rewrite = config.graph_options.rewrite_options
  if off:
    rewrite.disable_meta_optimizer = True
  else:
    for name in _LEAN_OFF:
      setattr(rewrite, name, rewrite.OFF)
    rewrite.memory_optimization = rewrite.NO_MEM_OPT
    rewrite.meta_optimizer_iterations = rewrite.ONE
  ctx.function_call_options = context.FunctionCallOptions(
      executor_type=old.executor_type, config_proto=config
  )
  try:
    yield
  finally:
    ctx.function_call_options = old


def stateless_seed(seed):
  """An int32[2] seed. Unlike TFP, an int seed reproduces samples exactly.

  Accepts None (fresh randomness), an int, a pair of ints, or a stateless
  seed tensor; integral floats count as ints.

  The CLI uses it too, so that a run's export draws the live model's images.
  """
  # R passes every number as a double: `seed = 42` arrives as 42.0, and
  # `c(1, 2)` as [1.0, 2.0]. Whole numbers are accepted, fractions rejected.
  if isinstance(seed, (numbers.Real, np.ndarray)) and np.ndim(seed) == 0:
    seed = validation.as_int("seed", seed)
    return tf.constant([(seed >> 31) & 0x7FFFFFFF, seed & 0x7FFFFFFF], tf.int32)
  if isinstance(seed, (list, tuple)) and len(seed) == 2:
    pair = [validation.as_int(f"seed[{i}]", s) for i, s in enumerate(seed)]
    return tf.constant(pair, tf.int32)
  return tfp.random.sanitize_seed(seed)  # None: fresh; tensors: stateless


def from_pixelcnn(
    dist: tfd.PixelCNN,
    name: str = "FastPixelCNN",
    jit_compile: Optional[bool] = None,
) -> FastPixelCNN:
  """A FastPixelCNN with the same arguments and weights as a `tfd.PixelCNN`.

  The masks are enforced on the copy (as TFP's optimizer would after one
  step); a trained model is unchanged by that. `jit_compile` is
  FastPixelCNN's own argument.
  """
  if not isinstance(dist, tfd.PixelCNN):
    raise TypeError(
        f"`dist` must be a tfd.PixelCNN; got {type(dist).__name__}."
    )
  params = dict(dist.parameters)
  params.pop("name", None)
  fast = FastPixelCNN(name=name, jit_compile=jit_compile, **params)
  fast.network.set_weights(dist.network.get_weights())
  network.enforce_masks(fast.network)
  return fast
