"""FastPixelCNN: TFP's PixelCNN with an exact, cached sampler."""
import numbers

import tensorflow as tf
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

  def __init__(self,
               image_shape,
               conditional_shape=None,
               num_resnet=5,
               num_hierarchies=3,
               num_filters=160,
               num_logistic_mix=10,
               receptive_field_dims=(3, 3),
               dropout_p=0.5,
               resnet_activation='concat_elu',
               use_weight_norm=True,
               use_data_init=True,
               high=255,
               low=0,
               dtype=tf.float32,
               name='FastPixelCNN',
               jit_compile=None):
    if jit_compile is not None and not isinstance(jit_compile, bool):
      raise TypeError('`jit_compile` must be None, True or False; got '
                      f'{jit_compile!r}.')
    args = validation.check_constructor(
        image_shape, conditional_shape, num_resnet, num_hierarchies,
        num_filters, num_logistic_mix, receptive_field_dims, dropout_p,
        resnet_activation, high, low, dtype)
    super().__init__(use_weight_norm=bool(use_weight_norm),
                     use_data_init=bool(use_data_init), name=name, **args)
    network.enforce_masks(self.network)
    network.guard_data_init(self.network)
    self._jit_compile = jit_compile
    self._generator = sampler.CachedGenerator(self)
    # The batch size is a tensor argument and conditional inputs relax to
    # an unknown batch dimension, so new sample sizes do not retrace. The
    # noise is drawn outside the compiled core, so a seed gives the same
    # noise on both paths (XLA's stateless RNG differs from TF's).
    self._generate = tf.function(self._traced_generate, autograph=False,
                                 reduce_retracing=True)
    # XLA compiles its core once per batch size (XLA needs static shapes);
    # the surrounding tf.function is still traced once.
    self._compiled_core = tf.function(self._xla_core, autograph=False,
                                      jit_compile=True, reduce_retracing=True)
    self.trace_count = 0  # how often the generator was traced (for tests)

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

  def sample(self, sample_shape=(), seed=None, name='sample', **kwargs):
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
    return super().sample(validation.sample_size(sample_shape), seed=seed,
                          name=name, **kwargs)

  def _sample_n(self, n, seed=None, conditional_input=None, training=False,
                progress=False):
    del training  # sampling never uses dropout
    samples, _ = self._run_generator(n, seed, conditional_input, False,
                                     progress)
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
        validation.as_int('n', n, minimum=0), seed, conditional_input, True)
    return samples, mixture.split_params(raw, self.image_shape[-1],
                                         self._num_logistic_mix)

  def _run_generator(self, n, seed, conditional_input, return_params,
                     progress=False):
    n = validation.as_int('n', n, minimum=0)
    cond = validation.conditional_batch(
        conditional_input, self.conditional_shape, n, self.dtype)
    if n == 0:  # nothing to generate; keep the shapes
      empty = tf.zeros([0] + self.image_shape.as_list(), self.dtype)
      raw = tf.zeros(
          [0] + self.image_shape.as_list()[:2] + [self._num_logistic_mix *
              mixture.num_params(self.image_shape[-1])], self.dtype)
      return (empty, raw) if return_params else (empty, None)
    self._check_ready(n, cond)
    progress = bool(progress)
    out = self._generate(tf.constant(n, tf.int32), cond, _stateless_seed(seed),
                         return_params, progress, self.uses_xla(progress))
    return out if return_params else (out, None)

  def _xla_core(self, cond, gumbel, logistic, return_params):
    return self._generator.generate(cond, gumbel, logistic, return_params,
                                    carry=True)

  def _traced_generate(self, n, cond, seed, return_params, progress, xla):
    self.trace_count += 1
    h, w, c = self.image_shape.as_list()
    gumbel, logistic = mixture.noise(seed, [h, w, n], self._num_logistic_mix,
                                    c, self.dtype)
    if xla:
      return self._compiled_core(cond, gumbel, logistic, return_params)
    bar = _RowProgress(h) if progress else None
    return self._generator.generate(cond, gumbel, logistic, return_params,
                                    bar)

  def _check_ready(self, n, cond):
    """Eagerly: masks must hold, and weight norm must be initialised."""
    if not tf.executing_eagerly():
      return
    if not network.masks_hold(self.network):
      raise ValueError(
          'The network weights break the autoregressive masks (e.g. copied '
          'from an untrained tfd.PixelCNN), so no sampler can match '
          'log_prob. Call `tfp_fastpixel.network.enforce_masks(dist.network)`'
          ' or use `from_pixelcnn`.')
    pending = [l for l in self.network._network.layers  # pylint: disable=protected-access
               if isinstance(l, network.WeightNorm) and not l.initialized]
    if pending:
      # TFP's sampler initialises weight norm on uniform noise images; do
      # the same so both start from the same weights.
      noise = tf.random.uniform([max(n, 1)] + self.image_shape.as_list(),
                                -1., 1., dtype=self.dtype)
      if cond is not None:
        cond_in = tf.reshape(cond if n else cond[:1], [max(n, 1)] + list(
            self.conditional_shape))
        self.network([noise, cond_in], training=False)
      else:
        self.network(noise, training=False)

  # -- Scoring -----------------------------------------------------------------

  def _log_prob(self, value, conditional_input=None, training=None):
    value = tf.convert_to_tensor(value, dtype_hint=self.dtype)
    validation.check_event_shape('value', value.shape, self.image_shape,
                                 'image_shape')
    validation.check_conditioning(conditional_input, self.conditional_shape)
    if conditional_input is not None:
      validation.check_event_shape(
          'conditional_input', tf.convert_to_tensor(conditional_input).shape,
          self.conditional_shape, 'conditional_shape')
    return super()._log_prob(value, conditional_input=conditional_input,
                             training=training)


class _RowProgress:
  """A Keras progress bar over image rows, fed from inside the graph."""

  def __init__(self, rows):
    self.rows = rows
    self.bar = None

  def __call__(self, row):
    if int(row) == 0:
      self.bar = tf_keras.utils.Progbar(self.rows, unit_name='row')
    self.bar.update(int(row) + 1)


def _stateless_seed(seed):
  """An int32[2] seed. Unlike TFP, an int seed reproduces samples exactly."""
  if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
    seed = int(seed)
    return tf.constant([(seed >> 31) & 0x7fffffff, seed & 0x7fffffff],
                       tf.int32)
  return tfp.random.sanitize_seed(seed)  # None: fresh; pairs: stateless


def from_pixelcnn(dist, name='FastPixelCNN', jit_compile=None):
  """A FastPixelCNN with the same arguments and weights as a `tfd.PixelCNN`.

  The masks are enforced on the copy (as TFP's optimizer would after one
  step); a trained model is unchanged by that. `jit_compile` is
  FastPixelCNN's own argument.
  """
  if not isinstance(dist, tfd.PixelCNN):
    raise TypeError(f'`dist` must be a tfd.PixelCNN; got {type(dist).__name__}.')
  params = dict(dist.parameters)
  params.pop('name', None)
  fast = FastPixelCNN(name=name, jit_compile=jit_compile, **params)
  fast.network.set_weights(dist.network.get_weights())
  network.enforce_masks(fast.network)
  return fast
