"""FastPixelCNN: TFP's PixelCNN with an exact, cached `sample()`."""

from typing import Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_fastpixel import _execution
from tfp_fastpixel import mixture
from tfp_fastpixel import network
from tfp_fastpixel import validation

tfd = tfp.distributions


class FastPixelCNN(tfd.PixelCNN):
  """`tfd.PixelCNN` whose `sample()` is an exact cached generator.

  The network, its weights and `log_prob` are TFP's own: weights move both
  ways with `network.set_weights(other.network.get_weights())`, and every
  `tfd.PixelCNN` argument means what it means there. Three things differ:

  * **Masks from construction.** The autoregressive masks hold from the
    start (TFP applies them only after the first optimizer step), and weight
    norm's data-dependent init leaves channels that see only padding alone
    instead of scaling them by up to 1e5.
  * **Exact samples.** `sample()` draws from the density `log_prob` scores
    (TFP's own sampler feeds back unrounded values, which `log_prob` never
    sees).
  * **Speed.** Each layer caches its recent inputs, so a pixel costs
    O(layers) rather than a full network pass.

  Plus `complete()`, which samples the rest of an image given its first
  pixels, and `jit_compile`.

  #### Mathematical details

  `log_prob` scores an image `x` of integer pixels in `[low, high]` as

  ```none
  log p(x | h) = sum_{i,j} log p(x_ij | x_<ij, h),
  p(x_ij,c | ...) = sum_m pi_m * [F((x + 0.5 - mu_m,c) / s_m,c)
                                  - F((x - 0.5 - mu_m,c) / s_m,c)]
  ```

  with `F` the logistic CDF (the edge bins take the tails), `x_<ij` the
  pixels before `(i, j)` in raster order, and `mu_m,c` shifted by the
  earlier channels' values: `mu_m,c += sum_{c'<c} coeff_m,c,c' * x_c'`.

  `sample()` draws each pixel from exactly that: a Gumbel-max choice of the
  component `m`, then a logistic draw `mu + s * (log u - log(1 - u))`
  rounded to the nearest integer in `[low, high]`, channel by channel, with
  the rounded values fed back to later channels and pixels. It is exact
  because the network sees only rounded pixels, as in `log_prob`.

  The network is evaluated incrementally (Ramachandran et al., 2017): the
  vertical stack once per image row, the horizontal stack once per pixel,
  each level of the U-net only at the rows and pixels it runs at, every
  masked convolution reading a small cache of its recent inputs. Each
  activation is computed once, so a pixel costs O(number of layers),
  independent of the image size; TFP's sampler costs a full network pass
  per pixel, O(H * W * layers).

  #### `jit_compile`

  `sample()` runs the generator in one of three programs. With
  `jit_compile=None` (the default) or `True`, XLA compiles it, once per
  batch size, laid out for a CPU or for the GPU/TPU TensorFlow sees. With
  `False`, it runs in TF graph mode, which traces faster and so suits a
  model sampled once. A progress bar (`progress=True`) always runs graph
  mode. `uses_xla()` says which the next call runs. All three draw the
  same images for a seed (float rounding could tip a rare pixel).

  Args:
    image_shape: `(height, width, channels)`; height and width divisible by
      `2**(num_hierarchies - 1)`. Integral floats (R doubles) are accepted
      here and for every integer argument.
    conditional_shape: shape of the conditional input (e.g. `()` for a
      scalar label), or None.
    num_resnet, num_hierarchies, num_filters, num_logistic_mix,
    receptive_field_dims, dropout_p, resnet_activation, use_weight_norm,
    use_data_init, high, low, dtype, name: as in `tfd.PixelCNN`.
    jit_compile: None (default) or True, XLA; False, graph mode (see
      above). Not a `tfd.PixelCNN` argument; kept by `copy()`.

  #### Examples

  ```python
  dist = FastPixelCNN(image_shape=(28, 28, 1), conditional_shape=(),
                      num_resnet=5, num_hierarchies=3, num_filters=128,
                      num_logistic_mix=5)
  images = dist.sample(8, seed=1, conditional_input=3.)    # [8, 28, 28, 1]
  images = dist.sample((4, 3), conditional_input=[1., 2., 3.])  # [4, 3, ...]
  done = dist.complete(images[0], num_observed=14 * 28, conditional_input=
                       [1., 2., 3.])                        # top half kept
  ```

  #### References

  [1]: Prajit Ramachandran, Tom Le Paine, Pooya Khorrami, Mohammad
       Babaeizadeh, Shiyu Chang, Yang Zhang, Mark A. Hasegawa-Johnson,
       Roy H. Campbell and Thomas S. Huang. Fast Generation for
       Convolutional Autoregressive Models. In _International Conference
       on Learning Representations (Workshop)_, 2017.
       https://arxiv.org/abs/1704.06001

  [2]: Tim Salimans, Andrej Karpathy, Xi Chen and Diederik P. Kingma.
       PixelCNN++: Improving the PixelCNN with Discretized Logistic Mixture
       Likelihood and Other Modifications. In _International Conference on
       Learning Representations_, 2017. https://arxiv.org/abs/1701.05517

  [3]: Aaron van den Oord, Nal Kalchbrenner, Oriol Vinyals, Lasse Espeholt,
       Alex Graves and Koray Kavukcuoglu. Conditional Image Generation with
       PixelCNN Decoders. In _Neural Information Processing Systems_, 2016.
       https://arxiv.org/abs/1606.05328
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
    with network.untraced_build():
      super().__init__(**args)
    # TFP's `parameters` are its constructor's locals; `copy()` and
    # everything else that rebuilds a distribution reads them.
    self._parameters["jit_compile"] = self._jit_compile
    network.enforce_masks(self.network)
    network.guard_data_init(self.network)
    self._executor = _execution.Executor(self)

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
    """Whether the next `sample()` runs the XLA-compiled generator.

    `jit_compile=False` runs graph mode, and so does every call with
    `progress=True` (the progress bar is a host callback, which XLA cannot
    compile). Otherwise, `jit_compile=None` (the default) or True, XLA: on
    every device and model size measured, XLA sampled faster than graph
    mode, or level with it within run-to-run noise (docs/performance.md).
    Graph mode traces faster, which pays for a model sampled once.
    """
    if progress or self._jit_compile is False:
      return False
    return True

  # -- Sampling ----------------------------------------------------------------

  def sample(self, sample_shape=(), seed=None, name="sample", **kwargs):
    """Draws exact samples: `[*sample_shape, H, W, C]` integer pixels.

    Args:
      sample_shape: int or tuple of ints (integral floats accepted).
      seed: int (integral floats accepted) or stateless `[2]` seed for
        reproducible samples; None for fresh ones.
      name: op name.
      **kwargs: `conditional_input`, `[*batch, *conditional_shape]`, whose
        batch size divides `prod(sample_shape)`, as in `tfd.PixelCNN`; and
        `progress=True` for a progress bar over image rows.
    """
    _check_not_keras3(kwargs.get("conditional_input"), "conditional_input")
    return super().sample(
        validation.sample_size(sample_shape),
        seed=validation.stateless_seed(seed),
        name=name,
        **kwargs,
    )

  def _sample_n(
      self, n, seed=None, conditional_input=None, training=False, progress=False
  ):
    del training  # sampling never uses dropout
    samples, _ = self._executor.run(n, seed, conditional_input, False, progress)
    return samples

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
        validation.sample_size(sample_shape),
        seed=validation.stateless_seed(seed),
        name=name,
        **kwargs,
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
    samples, raw = self._executor.run(
        n, seed, conditional_input, True, progress
    )
    params = mixture.split_params(raw, self.image_shape[-1], self._components)
    log_prob = self._params_log_prob(params, samples)
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
        of a pixel together): an int in [0, H*W] (integral floats
        accepted), or an int32 scalar tensor. 0 is plain sampling; H*W
        returns `images`.
      sample_shape: completions per image; int or tuple of ints.
      seed: int or stateless seed, as in `sample`.
      conditional_input: `[B, *conditional_shape]` (one per image), or one
        `[*conditional_shape]` for all; None for unconditional models.
      progress: a progress bar over image rows (runs graph mode).

    Returns:
      `[*sample_shape, B, H, W, C]`, with the observed pixels unchanged.
    """
    sample_shape = validation.sample_size(sample_shape)
    h, w, c = self.image_shape.as_list()
    images = validation.check_images(
        "images", images, self.image_shape, *self._pixel_range, self.dtype
    )
    num_observed = validation.num_observed(num_observed, h * w)
    seed = validation.stateless_seed(seed)
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
    out, _ = self._executor.run(
        copies * batch, seed, cond, False, progress, observed
    )
    return tf.reshape(out, list(sample_shape) + [batch, h, w, c])

  # -- Scoring -----------------------------------------------------------------

  def log_prob(self, value, name="log_prob", **kwargs):
    _check_not_keras3(value, "value")
    _check_not_keras3(kwargs.get("conditional_input"), "conditional_input")
    return super().log_prob(value, name=name, **kwargs)

  log_prob.__doc__ = tfd.PixelCNN.log_prob.__doc__

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


def _check_not_keras3(value, argument):
  """Raises a clear TypeError for a Keras 3 symbolic tensor.

  With TensorFlow >= 2.16, `import keras` is Keras 3, whose `keras.Input`
  TFP's Keras 2 network cannot take; TensorFlow's own message ("A
  KerasTensor cannot be used as input to a TensorFlow function") does not
  say what to do instead.
  """
  kind = type(value)
  if kind.__name__ == "KerasTensor" and kind.__module__.startswith("keras."):
    raise TypeError(
        f"`{argument}` is a Keras 3 tensor (from `keras.Input`), but TFP's "
        "PixelCNN is built on Keras 2. Use `tf_keras.Input` (or set "
        "TF_USE_LEGACY_KERAS=1 before TensorFlow loads), or train with "
        "`tfp_fastpixel.train`."
    )


def _sharing_network(dist: FastPixelCNN, jit_compile: Optional[bool]):
  """A FastPixelCNN on `dist`'s very network and weights, with its own
  `jit_compile` and generator (for `_execution.with_program`).

  Building TFP's network takes seconds even for a tiny model; a view costs
  nothing and keeps one set of weights. The view
  is made field by field, not through `__setattr__`, which would register
  the new fields as checkpoint dependencies in lists `dist` shares.
  """
  view = object.__new__(type(dist))
  view.__dict__.update(dist.__dict__)
  view.__dict__.update(
      _jit_compile=jit_compile,
      _parameters=dict(dist._parameters, jit_compile=jit_compile),
  )
  view.__dict__["_executor"] = _execution.Executor(view)
  return view


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
  params["jit_compile"] = jit_compile
  fast = FastPixelCNN(name=name, **params)
  fast.network.set_weights(dist.network.get_weights())
  network.enforce_masks(fast.network)
  return fast
