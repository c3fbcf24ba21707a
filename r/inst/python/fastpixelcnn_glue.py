"""The Python side of the R package fastpixelcnn.

Arrays cross between R and Python as raw little-endian float64 bytes plus a
shape, never through reticulate's NumPy converter: reticulate before 1.38
cannot convert NumPy 2 arrays, and bytes work with every version. Every
function takes the arguments under the names the R functions give them, so
that an error names what the R user typed.
"""

import numpy as np
import tensorflow as tf
import tf_keras

from tfp_fastpixel import train as train_lib
from tfp_fastpixel import validation
from tfp_fastpixel.distribution import FastPixelCNN


def from_bytes(data, shape):
  """R's column-major doubles (already permuted to row-major) -> ndarray."""
  shape = tuple(int(d) for d in shape)
  return np.frombuffer(bytes(data), dtype="<f8").reshape(shape).copy()


def to_bytes(x):
  """Tensor, array or number -> `[shape, bytes]` (row-major float64)."""
  if hasattr(x, "numpy"):
    x = x.numpy()
  a = np.asarray(x, dtype=np.float64)
  return [list(a.shape), bytearray(np.ascontiguousarray(a).astype("<f8"))]


def is_distribution(obj):
  return isinstance(obj, FastPixelCNN)


def _check_distribution(obj, argument="distribution"):
  if is_distribution(obj) or _is_export(obj):
    return
  raise TypeError(
      f"`{argument}` must be a FastPixelCNN (tfd_fast_pixel_cnn()) or a "
      f"loaded export (fp_load_export()); got {type(obj).__name__}."
  )


def _is_export(obj):
  signatures = getattr(obj, "signatures", None)
  return signatures is not None and {"sample", "log_prob", "complete"} <= set(
      signatures
  )


def _export_specs(model):
  """(images spec, conditional spec or None) of a loaded export."""
  _, images = model.signatures["log_prob"].structured_input_signature
  images = dict(images)
  return images["images"], images.get("conditional_input")


def _export_cond(model, conditional_input, n, argument="conditional_input"):
  """`conditional_input` tiled to `[n, *conditional_shape]` for an export."""
  images_spec, cond_spec = _export_specs(model)
  shape = None if cond_spec is None else cond_spec.shape[1:]
  cond = validation.conditional_batch(
      conditional_input, shape, n, images_spec.dtype, argument=argument
  )
  if cond is None:
    return {}
  return {"conditional_input": tf.reshape(cond, [n] + shape.as_list())}


def sample(distribution, sample_shape, seed, conditional_input):
  """`[*sample_shape, H, W, C]` samples of a distribution or an export."""
  _check_distribution(distribution)
  shape = validation.sample_size(sample_shape)
  if is_distribution(distribution):
    kwargs = {}
    if conditional_input is not None:
      kwargs["conditional_input"] = conditional_input
    return distribution.sample(shape, seed=seed, **kwargs)
  n = int(np.prod(shape, dtype=np.int64))
  images_spec, _ = _export_specs(distribution)
  out = distribution.sample(
      n=tf.constant(n, tf.int32),
      seed=validation.stateless_seed(seed),
      **_export_cond(distribution, conditional_input, n),
  )
  return tf.reshape(out, list(shape) + images_spec.shape[1:].as_list())


def log_prob(distribution, x, conditional_input):
  """log p(x) `[B]` (for `[B, H, W, C]` images) of either kind of model."""
  _check_distribution(distribution)
  if is_distribution(distribution):
    dtype = distribution.dtype
    x = tf.cast(tf.convert_to_tensor(x, dtype_hint=dtype), dtype)
    kwargs = {}
    if conditional_input is not None:
      kwargs["conditional_input"] = tf.cast(
          tf.convert_to_tensor(conditional_input, dtype_hint=dtype), dtype
      )
    return distribution.log_prob(x, **kwargs)
  images_spec, _ = _export_specs(distribution)
  x = tf.cast(tf.convert_to_tensor(x), images_spec.dtype)
  if not images_spec.shape.is_compatible_with(x.shape):
    raise ValueError(
        f"`x` must have shape [batch, "
        f"{', '.join(map(str, images_spec.shape[1:]))}]; got "
        f"{x.shape.as_list()}."
    )
  n = x.shape[0]
  return distribution.log_prob(
      images=x, **_export_cond(distribution, conditional_input, n)
  )


def complete(
    distribution, images, num_observed, sample_shape, seed, conditional_input
):
  """Completions `[*sample_shape, B, H, W, C]` keeping a raster prefix."""
  _check_distribution(distribution)
  if is_distribution(distribution):
    return distribution.complete(
        images,
        num_observed,
        sample_shape=sample_shape,
        seed=seed,
        conditional_input=conditional_input,
    )
  shape = validation.sample_size(sample_shape)
  images_spec, _ = _export_specs(distribution)
  event = images_spec.shape[1:]
  h, w, _ = event.as_list()
  x = validation.check_images(
      "images", images, event, -np.inf, np.inf, images_spec.dtype
  )
  observed = validation.num_observed(num_observed, h * w)
  batch = x.shape[0]
  copies = int(np.prod(shape, dtype=np.int64))
  # Image-major within each copy, as the live model's `complete`.
  cond = _export_cond(distribution, conditional_input, batch)
  if cond:
    c = cond["conditional_input"]
    cond["conditional_input"] = tf.tile(c, [copies] + [1] * (c.shape.rank - 1))
  out = distribution.complete(
      images=tf.tile(x, [copies, 1, 1, 1]),
      num_observed=observed,
      seed=validation.stateless_seed(seed),
      **cond,
  )
  return tf.reshape(out, list(shape) + [batch] + event.as_list())


class _Epochs(tf_keras.callbacks.Callback):
  """Records each epoch's number (1-based) and logs."""

  def __init__(self):
    super().__init__()
    self.rows = []

  def on_epoch_end(self, epoch, logs=None):
    row = {"epoch": epoch + 1}
    row.update({k: float(v) for k, v in (logs or {}).items()})
    self.rows.append(row)


def _columns(rows):
  keys = []
  for row in rows:
    keys += [k for k in row if k not in keys]
  return {k: [row.get(k, float("nan")) for row in rows] for k in keys}


def fit(
    distribution,
    x,
    y,
    epochs,
    batch_size,
    learning_rate,
    seed,
    shuffle,
    verbose,
):
  """Trains `distribution` in place on in-memory images (and labels).

  The Keras model is `tfp_fastpixel.train.build_model`'s (log_prob as the
  output, -mean as the loss, Adam). Returns the per-epoch logs as columns.
  """
  if not is_distribution(distribution):
    raise TypeError(
        "`distribution` must be a FastPixelCNN (tfd_fast_pixel_cnn()); got "
        f"{type(distribution).__name__}."
    )
  epochs = validation.as_int("epochs", epochs, minimum=1)
  batch_size = validation.as_int("batch_size", batch_size, minimum=1)
  verbose = validation.as_int("verbose", verbose, minimum=0)
  if not isinstance(shuffle, (bool, np.bool_)):
    raise TypeError(f"`shuffle` must be TRUE or FALSE; got {shuffle!r}.")
  params = distribution.parameters
  images = validation.check_images(
      "x",
      x,
      distribution.image_shape,
      params["low"],
      params["high"],
      distribution.dtype,
  )
  n = images.shape[0]
  if n == 0:
    raise ValueError("`x` holds no images.")
  cond_shape = distribution.conditional_shape
  labels = validation.conditional_batch(
      y, cond_shape, n, distribution.dtype, argument="y", exact=True
  )
  if labels is None:
    inputs = images
  else:
    inputs = (images, tf.reshape(labels, [n] + cond_shape.as_list()))
  if seed is not None:
    seed = validation.as_int("seed", seed)
    tf_keras.utils.set_random_seed(seed)
  ds = tf.data.Dataset.from_tensor_slices((inputs,))
  if shuffle:
    ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
  ds = ds.batch(batch_size)
  model = train_lib.build_model(distribution, learning_rate)
  epochs_seen = _Epochs()
  model.fit(ds, epochs=epochs, verbose=verbose, callbacks=[epochs_seen])
  return _columns(epochs_seen.rows)


def train_run(
    run_dir,
    data_config,
    model,
    epochs,
    batch_size,
    learning_rate,
    seed,
    verbose,
):
  """`tfp_fastpixel.train.train` on a data set: `(columns, stopped_on_nan)`."""
  epochs_seen = _Epochs()
  result = train_lib.train(
      run_dir,
      data_config=data_config,
      model_kwargs=model,
      epochs=epochs,
      batch_size=batch_size,
      learning_rate=learning_rate,
      seed=seed,
      verbose=validation.as_int("verbose", verbose, minimum=0),
      callbacks=[epochs_seen],
  )
  return [_columns(epochs_seen.rows), bool(result.stopped_on_nan)]
