"""Internal: runs a FastPixelCNN's generator (readiness, tracing, XLA core).

`FastPixelCNN` keeps one `Executor`; everything below its TFP API happens
here: the masks and weight norm's init are settled before sampling, the
noise and weights are prepared, and one of the generator's programs runs.
The export, the shard writer, the benchmarks and the tests use the
module-level functions; nothing here is public API.

The programs, by name (`PROGRAMS`):

* `graph`: the loops in TF graph mode (`jit_compile=False`, and every call
  with a progress bar, which XLA cannot compile);
* `xla_cpu`: compiled by XLA, laid out for a CPU;
* `xla_accelerator`: compiled by XLA, laid out for a GPU or TPU;
* `xla_jacobi`: compiled by XLA, a row at a time by fixed-point passes
  (`generator.jacobi`).

With XLA, the second is picked on a CPU and the third where TensorFlow sees
a GPU or TPU; `with_program` forces one (the tests and benchmarks run the
accelerator and Jacobi programs on a CPU that way; nothing picks the
fourth automatically until GPU timings say where it wins).
"""

import weakref

import tensorflow as tf
import tf_keras

from tfp_fastpixel import _tf_compat
from tfp_fastpixel import generator
from tfp_fastpixel import layouts
from tfp_fastpixel import mixture
from tfp_fastpixel import network
from tfp_fastpixel import validation

PROGRAMS = tuple(layouts.LAYOUTS)


class Executor:
  """Runs one distribution's generator; built once, holds no weights.

  The batch size is a tensor argument and conditional inputs relax to an
  unknown batch dimension, so new sample sizes do not retrace. The noise is
  drawn outside the compiled core, so a seed gives the same noise on every
  program (XLA's stateless RNG differs from TF's).
  """

  def __init__(self, dist):
    self.dist = dist
    self.plan = generator.Plan(dist)  # the generator's, built once
    self.generate = tf.function(
        self._traced_generate, autograph=False, reduce_retracing=True
    )
    # XLA compiles its core once per batch size (XLA needs static shapes);
    # the surrounding tf.function is still traced once.
    self.compiled_core = tf.function(
        self._xla_core, autograph=False, jit_compile=True, reduce_retracing=True
    )
    self._readiness = network.readiness_check(dist.network)
    self._xla_fns = {}  # see _xla_sampler
    self._passes_fn = None  # see passes_per_row
    self._graph_checks = weakref.WeakKeyDictionary()  # see check_ready
    self.forced = None  # a Layout, set only by `with_program`
    self.trace_count = 0  # how often the inputs were traced (for tests)

  # -- Which program -----------------------------------------------------------

  def program(self, progress=False):
    """The name of the program the next call runs (see `PROGRAMS`)."""
    if not self.dist.uses_xla(progress):
      return "graph"
    if self.forced is not None:
      return self.forced.name
    accelerator = tf.config.list_logical_devices(
        "GPU"
    ) or tf.config.list_logical_devices("TPU")
    return "xla_accelerator" if accelerator else "xla_cpu"

  def layout(self, xla):
    """The layout of the graph program, or of the compiled core."""
    if xla and self.forced is not None:
      return self.forced
    return layouts.LAYOUTS[self.program() if xla else "graph"]

  # -- Running -----------------------------------------------------------------

  def run(
      self,
      n,
      seed,
      conditional_input,
      return_params,
      progress=False,
      observed=None,
  ):
    """Checks the inputs and runs the generator.

    Returns:
      `(samples [n, H, W, C], raw params [n, H, W, P] or None)`.
    """
    dist = self.dist
    n = validation.as_int("n", n, minimum=0)
    cond = validation.conditional_batch(
        conditional_input, dist.conditional_shape, n, dist.dtype
    )
    if n == 0:  # nothing to generate; keep the shapes
      h, w, c = dist.image_shape.as_list()
      empty = tf.zeros([0, h, w, c], dist.dtype)
      size = dist.parameters["num_logistic_mix"] * mixture.num_params(c)
      raw = tf.zeros([0, h, w, size], dist.dtype)
      return empty, (raw if return_params else None)
    ready = self.check_ready(n, cond, _reuse_key(n, conditional_input))
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
      progress: a progress bar over rows (graph program).

    Returns:
      samples `[n, H, W, C]` (and the raw params if requested).
    """
    if observed is None:
      observed = self.nothing_observed()
    xla = self.dist.uses_xla(progress)
    seed = validation.stateless_seed(seed)
    if xla and tf.executing_eagerly():
      # Two calls rather than one function around the compiled core: TF
      # then optimises only the inputs' graph, not the core's body as well
      # (about 2 s of a first call on the QuickDraw model).
      return self._xla_sampler(return_params)(n, cond, seed, observed)
    args = (n, cond, seed, return_params, progress, xla, observed)
    # Eagerly, the graph program's first call runs a lighter graph
    # optimiser (2-4 s less on the big models, same steady speed and draws).
    if xla or not tf.executing_eagerly():
      return self.generate(*args)
    with _tf_compat.graph_optimizer():
      return self.generate(*args)

  def nothing_observed(self):
    """`observed` for plain sampling: completion with nothing observed.

    One traced program serves both, so that an export (which shares it)
    draws the very same images as the live model (a different graph may
    round differently). One blank image, broadcast in the trace: a new n
    does not retrace.
    """
    h, w, c = self.dist.image_shape.as_list()
    return tf.zeros([1, h, w, c], self.dist.dtype), tf.constant(0)

  def _xla_sampler(self, return_params):
    """`run_generator`'s XLA program for eager callers, as two calls.

    `fn(n, cond, seed, observed)`: one call draws the noise and reads the
    weights, the next runs the compiled core on them. Traced once for any
    batch size, as `traced_generator`.
    """
    key = bool(return_params)
    if key not in self._xla_fns:
      inputs = tf.function(
          self._xla_inputs, autograph=False
      ).get_concrete_function(*self.generator_specs())
      weights, gumbel, logistic, observed = tf.nest.map_structure(
          lambda t: t if t is None else tf.TensorSpec(t.shape, t.dtype),
          inputs.structured_outputs,
      )
      core = self.compiled_core.get_concrete_function(
          weights, gumbel, logistic, key, observed
      )

      def run(n, cond, seed, observed):
        with _tf_compat.graph_optimizer(off=True):
          out = inputs(n, cond, seed, observed)
        # The inputs' outputs already have the core's types.
        flat = [t for t in tf.nest.flatten(out) if t is not None]
        return _tf_compat.call_flat(core, flat)

      self._xla_fns[key] = run
    return self._xla_fns[key]

  def traced_generator(self, return_params=False, xla=None):
    """The generator traced once for any batch size, as a concrete function.

    For building other graphs on it (the export, the shard writer): calls
    of a concrete function never retrace, wherever they are traced.

    Returns:
      `fn(n, cond, seed, images, num_observed)` -> samples `[n, H, W, C]`
      (and the raw params if `return_params`); `cond` is absent for
      unconditional models; arguments as in `run_generator`, with an int32
      `[2]` seed. `xla`: compiled or not (default `dist.uses_xla()`).
    """
    n, cond, seed, observed = self.generator_specs()
    xla = self.dist.uses_xla() if xla is None else bool(xla)
    return self.generate.get_concrete_function(
        n, cond, seed, return_params, False, xla, observed
    )

  def core_program(
      self, n, seed=0, conditional_input=None, return_params=False
  ):
    """The XLA-compiled core and its arguments, as `sample(n)` calls it.

    For reading the program rather than sampling (op counts, the GPU
    export): e.g.
    `fn.experimental_get_compiler_ir(*args)(stage="optimized_hlo")`.

    Returns:
      `(fn, args)`: the core's `tf.function` and its arguments
      `(weights, gumbel, logistic, return_params, observed)`, the last
      with nothing observed.
    """
    dist = self.dist
    cond = validation.conditional_batch(
        conditional_input, dist.conditional_shape, n, dist.dtype
    )
    weights, gumbel, logistic, observed = self._xla_inputs(
        tf.constant(n, tf.int32),
        cond,
        validation.stateless_seed(seed),
        self.nothing_observed(),
    )
    args = (weights, gumbel, logistic, bool(return_params), observed)
    return self.compiled_core, args

  def generator_specs(self):
    """Specs of `(n, cond, seed, observed)` for any batch size."""
    dist = self.dist
    h, w, c = dist.image_shape.as_list()
    cond = None
    if dist.conditional_shape is not None:
      size = max(1, dist.conditional_shape.num_elements())
      cond = tf.TensorSpec([None, size], dist.dtype)
    return (
        tf.TensorSpec([], tf.int32),
        cond,
        tf.TensorSpec([2], tf.int32),
        (
            tf.TensorSpec([None, h, w, c], dist.dtype),
            tf.TensorSpec([], tf.int32),
        ),
    )

  def passes_per_row(self, n, seed=0, conditional_input=None):
    """The compiled program's draws, and the dependent steps of each row.

    For the benchmarks and tests: `(samples [n, H, W, C], passes [H])`, the
    passes each row took in the Jacobi program (the most over the batch),
    or W in a pixel-by-pixel one. A program of its own, compiled once per
    batch size.
    """
    prepare(self.dist, n, conditional_input)
    _, (weights, gumbel, logistic, _, observed) = self.core_program(
        n, seed, conditional_input
    )
    if self._passes_fn is None:

      def run(weights, gumbel, logistic, observed):
        return self._compiled_body(
            weights, gumbel, logistic, False, observed, True
        )

      self._passes_fn = tf.function(
          run, autograph=False, jit_compile=True, reduce_retracing=True
      )
    return self._passes_fn(weights, gumbel, logistic, observed)

  # -- Traced ---------------------------------------------------------------

  def _xla_core(self, weights, gumbel, logistic, return_params, observed):
    # `compiled_core` keeps exactly these five arguments: callers of
    # `experimental_get_compiler_ir` pass them positionally.
    return self._compiled_body(
        weights, gumbel, logistic, return_params, observed, False
    )

  def _compiled_body(
      self, weights, gumbel, logistic, return_params, observed, return_passes
  ):
    """What the compiled programs run (`passes_per_row` asks for the passes
    too)."""
    return generator.generate(
        self.plan,
        self.layout(xla=True),
        weights,
        gumbel,
        logistic,
        return_params,
        observed=observed,
        return_passes=return_passes,
    )

  def _xla_inputs(self, n, cond, seed, observed):
    """`traced_inputs` for the compiled core (its layout's weights)."""
    return self.traced_inputs(n, cond, seed, observed, xla=True)

  def traced_inputs(self, n, cond, seed, observed, xla):
    """What the generator takes: (weights, gumbel, logistic, observed).

    The weights are read for the layout of the program that takes them.
    """
    self.trace_count += 1
    dist = self.dist
    h, w, c = dist.image_shape.as_list()
    gumbel, logistic = mixture.noise(
        seed, [h, w, n], dist.parameters["num_logistic_mix"], c, dist.dtype
    )
    if observed is not None:  # [B, H, W, C] -> [H, W, B, C], as the noise
      images = tf.broadcast_to(observed[0], tf.stack([n, h, w, c]))
      observed = (
          tf.transpose(images, [1, 2, 0, 3]),
          tf.cast(observed[1], tf.int32),
      )
    weights = generator.read_weights(self.plan, cond, self.layout(xla))
    return weights, gumbel, logistic, observed

  def _traced_generate(
      self, n, cond, seed, return_params, progress, xla, observed=None
  ):
    weights, gumbel, logistic, observed = self.traced_inputs(
        n, cond, seed, observed, xla
    )
    if xla:
      return self.compiled_core(
          weights, gumbel, logistic, return_params, observed
      )
    bar = _RowProgress(self.dist.image_shape[0]) if progress else None
    return generator.generate(
        self.plan,
        self.layout(xla=False),
        weights,
        gumbel,
        logistic,
        return_params,
        bar,
        observed=observed,
    )

  # -- Readiness ------------------------------------------------------------

  def check_ready(self, n, cond, reuse_key=None):
    """Masks must hold, and weight norm must be initialised, before sampling.

    Eagerly both are settled here. In a graph (`tf.compat.v1` or inside a
    user's `tf.function`) neither can be known while building it, and a
    v1 variable initialiser undoes the constructor's masks; so this returns
    control dependencies for the generator: the masks re-applied (a no-op on
    masked weights), then a network pass on noise that runs only while some
    WeightNorm layer is still uninitialised.

    That graph check holds a whole network pass, so a graph builds it once
    per `reuse_key` (the batch size and the caller's conditional tensor, see
    `_reuse_key`): later sample ops in the graph depend on the same check.
    """
    net = self.dist.network
    if not tf.executing_eagerly():
      if reuse_key is None:
        return self._graph_check(net, n, cond)
      built = self._graph_checks.setdefault(
          tf.compat.v1.get_default_graph(), {}
      )
      if reuse_key not in built:
        built[reuse_key] = self._graph_check(net, n, cond)
      return built[reuse_key]
    with _tf_compat.graph_optimizer(off=True):
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

  def _graph_check(self, net, n, cond):
    """`check_ready`'s control dependencies, built in the current graph."""
    pending = network.uninitialized_weight_norms(net)
    with tf.control_dependencies(network.enforce_masks(net)):
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

  def _init_pass(self, n, cond):
    """One network pass on noise images, which initialises weight norm.

    TFP's sampler initialises on uniform noise; so do we, so that both start
    from the same weights.
    """
    dist = self.dist
    batch = max(n, 1)
    noise = tf.random.uniform(
        [batch] + dist.image_shape.as_list(), -1.0, 1.0, dtype=dist.dtype
    )
    inputs = noise
    if cond is not None:
      inputs = [
          noise,
          tf.reshape(
              cond if n else cond[:1], [batch] + list(dist.conditional_shape)
          ),
      ]
    out = dist.network(inputs, training=False)
    with tf.control_dependencies(tf.nest.flatten(out)):
      return tf.constant(True)


def _reuse_key(n, conditional_input):
  """Which graph-mode readiness checks are the same check (or None)."""
  if conditional_input is None:
    return (n, None)
  if tf.is_tensor(conditional_input):
    return (n, conditional_input.ref())
  return None  # a new constant each call


class _RowProgress:
  """A Keras progress bar over image rows, fed from inside the graph."""

  def __init__(self, rows):
    self.rows = rows
    self.bar = None

  def __call__(self, row):
    if int(row) == 0:
      self.bar = tf_keras.utils.Progbar(self.rows, unit_name="row")
    self.bar.update(int(row) + 1)


# -- For the export, the shard writer, the benchmarks and the tests ---------


def with_program(dist, program):
  """A FastPixelCNN that runs `program` on `dist`'s network and weights.

  The one way to pick a program other than the automatic choice. `program`
  is a name in `PROGRAMS`, or a `layouts.Layout` of a compiled program
  (the tests run variants, e.g. `layouts.JacobiRows(max_passes=1)`). A
  FastPixelCNN is shared, not copied, so several programs compare on the
  very same weights; a `tfd.PixelCNN` is copied by `from_pixelcnn`.
  """
  from tfp_fastpixel import distribution  # no import cycle

  layout = program
  if not isinstance(program, layouts.Layout):
    if program not in PROGRAMS:
      raise ValueError(f"`program` must be one of {PROGRAMS}; got {program!r}.")
    layout = layouts.LAYOUTS[program]
  xla = layout.name != "graph"
  if isinstance(dist, distribution.FastPixelCNN):
    fast = distribution._sharing_network(dist, jit_compile=xla)
  else:
    fast = distribution.from_pixelcnn(dist, jit_compile=xla)
  if xla:
    fast._executor.forced = layout
  return fast


def program(dist, progress=False):
  """The name of the program `dist.sample` runs next."""
  return dist._executor.program(progress)


def prepare(dist, n=1, conditional_input=None):
  """Checks the masks and initialises weight norm now, as `sample` would.

  For callers that then use `run_generator` or `traced_generator`.
  """
  cond = validation.conditional_batch(
      conditional_input, dist.conditional_shape, n, dist.dtype
  )
  return dist._executor.check_ready(n, cond)


def sample_with_params(dist, n, seed=None, conditional_input=None):
  """Samples and the mixture parameters the generator used at each pixel.

  For teacher forcing: `dist.network(images)` on the returned images must
  give the same parameters.

  Returns:
    samples: `[n, H, W, C]`.
    params: TFP's network outputs `[logits, locs, scales(, coeffs)]`, each
      `[n, H, W, M(, ...)]`.
  """
  samples, raw = dist._executor.run(
      validation.as_int("n", n, minimum=0), seed, conditional_input, True
  )
  return samples, mixture.split_params(
      raw, dist.image_shape[-1], dist.parameters["num_logistic_mix"]
  )


def run_generator(
    dist, n, seed, cond, observed=None, return_params=False, progress=False
):
  """`Executor.run_generator` of `dist`."""
  return dist._executor.run_generator(
      n, seed, cond, observed, return_params, progress
  )


def traced_generator(dist, return_params=False, xla=None):
  """`Executor.traced_generator` of `dist`."""
  return dist._executor.traced_generator(return_params, xla)


def core_program(dist, n, seed=0, conditional_input=None, return_params=False):
  """`Executor.core_program` of `dist`."""
  return dist._executor.core_program(n, seed, conditional_input, return_params)


def passes_per_row(dist, n, seed=0, conditional_input=None):
  """`Executor.passes_per_row` of `dist`."""
  return dist._executor.passes_per_row(n, seed, conditional_input)


def trace_count(dist):
  """How often `dist`'s generator inputs were traced (for tests)."""
  return dist._executor.trace_count
