"""Argument checks that fail early, with the argument's name in the message.

R (through reticulate) passes every number as a double: `8`, `c(28, 28, 1)`,
and `list()` for an empty shape. Integral floats are therefore accepted
wherever TFP wants an int; anything else is rejected here rather than deep
inside Keras.
"""

import inspect
import numbers

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_fastpixel import arguments


def as_int(name, value, minimum=None):
  """`value` as a Python int; integral floats (R doubles) are accepted."""
  if isinstance(value, (bool, np.bool_)):
    raise TypeError(f"`{name}` must be an integer; got the boolean {value}.")
  if isinstance(value, tf.Tensor):
    static = tf.get_static_value(value)
    if static is None:
      raise TypeError(
          f"`{name}` must be known when the graph is built; got "
          f"the tensor {value}."
      )
    value = static
  if isinstance(value, np.ndarray) and value.ndim == 0:
    value = value.item()
  if isinstance(value, numbers.Integral):
    out = int(value)
  elif isinstance(value, numbers.Real) and float(value).is_integer():
    out = int(value)
  else:
    raise TypeError(
        f"`{name}` must be an integer (integral floats such as R "
        f"doubles are fine); got {value!r}."
    )
  if minimum is not None and out < minimum:
    raise ValueError(f"`{name}` must be >= {minimum}; got {out}.")
  return out


def as_shape(name, value, rank=None, minimum=1):
  """`value` as a tuple of ints (a scalar is a shape of rank one)."""
  if isinstance(value, tf.TensorShape):
    if not value.is_fully_defined():
      raise ValueError(f"`{name}` must be fully defined; got {value}.")
    value = value.as_list()
  if isinstance(value, tf.Tensor):
    value = tf.get_static_value(value)
  if np.ndim(value) == 0:
    value = [value]
  dims = tuple(
      as_int(f"{name}[{i}]", v, minimum=minimum)
      for i, v in enumerate(np.asarray(value, dtype=object).ravel())
  )
  if rank is not None and len(dims) != rank:
    raise ValueError(f"`{name}` must have {rank} entries; got {value!r}.")
  return dims


def model_arguments(**kwargs):
  """Validates and normalises `FastPixelCNN`'s arguments: the one validator.

  The constructor, `train.model_config` (run dirs), the CLI and the R
  wrapper all build models through it, so they accept and reject the same
  values. Missing arguments take the signature's defaults
  (`arguments.model_defaults()`).

  Returns:
    Every argument, in signature order: ints where TFP wants ints, tuples
    for shapes, a `tf.DType` for `dtype`.

  Raises:
    TypeError: an unknown argument, or a value of the wrong type.
    ValueError: a value out of range; the message names the argument.
  """
  defaults = arguments.model_defaults()
  unknown = sorted(
      set(kwargs) - set(defaults) - set(arguments.required_arguments())
  )
  if unknown:
    raise TypeError(
        f"Unknown FastPixelCNN argument(s) {unknown}; expected "
        f"some of {list(arguments.required_arguments())} + "
        f"{list(defaults)}."
    )
  missing = [a for a in arguments.required_arguments() if a not in kwargs]
  if missing:
    raise TypeError(f"FastPixelCNN: missing argument(s) {missing}.")
  a = dict(defaults, **kwargs)
  checked = inspect.signature(_check_model).parameters
  out = _check_model(**{k: a[k] for k in checked})
  for flag in ("use_weight_norm", "use_data_init"):
    if not isinstance(a[flag], (bool, np.bool_)):
      raise TypeError(f"`{flag}` must be True or False; got {a[flag]!r}.")
    out[flag] = bool(a[flag])
  if not isinstance(a["name"], str) or not a["name"]:
    raise TypeError(f'`name` must be a non-empty string; got {a["name"]!r}.')
  out["name"] = a["name"]
  if a["jit_compile"] is not None and not isinstance(a["jit_compile"], bool):
    raise TypeError(
        "`jit_compile` must be None, True or False; got "
        f'{a["jit_compile"]!r}.'
    )
  out["jit_compile"] = a["jit_compile"]
  return {k: out[k] for k in a}  # signature order


def _check_model(
    image_shape,
    conditional_shape,
    num_resnet,
    num_hierarchies,
    num_filters,
    num_logistic_mix,
    receptive_field_dims,
    dropout_p,
    resnet_activation,
    high,
    low,
    dtype,
):
  """The numeric and shape arguments (see `model_arguments`)."""
  image_shape = as_shape("image_shape", image_shape, rank=3)
  if conditional_shape is not None:
    if isinstance(conditional_shape, (list, tuple)) and not conditional_shape:
      conditional_shape = ()
    else:
      conditional_shape = as_shape("conditional_shape", conditional_shape)
  num_hierarchies = as_int("num_hierarchies", num_hierarchies, minimum=1)
  rows, cols = as_shape("receptive_field_dims", receptive_field_dims, rank=2)
  if cols % 2 != 1:
    raise ValueError(
        "`receptive_field_dims` must have an odd width (second "
        f"entry); got {receptive_field_dims!r}."
    )
  if num_hierarchies > 1 and (rows < 3 or cols < 3):
    raise ValueError(
        "With num_hierarchies > 1, `receptive_field_dims` must "
        f"be at least (3, 3); got {receptive_field_dims!r}."
    )
  if rows < 2:
    raise ValueError(
        "`receptive_field_dims` must have height >= 2; got "
        f"{receptive_field_dims!r}."
    )
  factor = 2 ** (num_hierarchies - 1)
  if image_shape[0] % factor or image_shape[1] % factor:
    raise ValueError(
        f"`image_shape` height and width must be divisible by 2**"
        f"(num_hierarchies - 1) = {factor}; got {image_shape} with "
        f"num_hierarchies={num_hierarchies}."
    )
  if isinstance(dropout_p, bool) or not isinstance(dropout_p, numbers.Real):
    raise TypeError(f"`dropout_p` must be a float; got {dropout_p!r}.")
  if not 0.0 <= float(dropout_p) < 1.0:
    raise ValueError(f"`dropout_p` must be in [0, 1); got {dropout_p}.")
  if resnet_activation not in ("concat_elu", "elu", "relu"):
    raise ValueError(
        "`resnet_activation` must be 'concat_elu', 'elu' or "
        f"'relu'; got {resnet_activation!r}."
    )
  for name, v in (("high", high), ("low", low)):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
      raise TypeError(f"`{name}` must be a number; got {v!r}.")
  if not high > low:
    raise ValueError(
        f"`high` must be greater than `low`; got high={high}, " f"low={low}."
    )
  try:
    dtype = tf.as_dtype(dtype)
  except TypeError:
    dtype = None
  if dtype not in (tf.float32, tf.float64):
    raise TypeError(f"`dtype` must be float32 or float64; got {dtype!r}.")
  return dict(
      image_shape=image_shape,
      conditional_shape=conditional_shape,
      num_resnet=as_int("num_resnet", num_resnet, minimum=1),
      num_hierarchies=num_hierarchies,
      num_filters=as_int("num_filters", num_filters, minimum=1),
      num_logistic_mix=as_int("num_logistic_mix", num_logistic_mix, minimum=1),
      receptive_field_dims=(rows, cols),
      dropout_p=float(dropout_p),
      resnet_activation=resnet_activation,
      high=high,
      low=low,
      dtype=dtype,
  )


def stateless_seed(seed):
  """`seed` as an int32 `[2]` stateless seed (None: a fresh random one).

  An int seed (an integral float, such as an R double, counts as one)
  reproduces samples exactly, unlike TFP's int seeds; so does a pair of
  ints or an int32 `[2]` tensor. Fractions and booleans are rejected.
  """
  if seed is None or tf.is_tensor(seed):
    return tfp.random.sanitize_seed(seed)
  if np.ndim(seed) == 0:
    value = as_int("seed", seed)
    return tf.constant(
        [(value >> 31) & 0x7FFFFFFF, value & 0x7FFFFFFF], tf.int32
    )
  pair = as_shape("seed", seed, rank=2, minimum=None)
  return tfp.random.sanitize_seed(list(pair))


def sample_size(sample_shape):
  """`sample_shape` as a tuple of non-negative ints (R doubles accepted)."""
  return as_shape("sample_shape", sample_shape, minimum=0)


def check_event_shape(argument, shape, event, what):
  """Raises unless `shape` ends with `event` (unknown rank passes).

  Args:
    argument: the argument's name, for the message.
    shape: a `tf.TensorShape` or tuple, possibly with leading batch dims.
    event: the trailing dims expected.
    what: the constructor argument `event` comes from.
  """
  shape = tf.TensorShape(shape)
  if shape.rank is None:
    return
  shape, event = tuple(shape.as_list()), tuple(event)
  if len(shape) < len(event) or shape[len(shape) - len(event) :] != event:
    raise ValueError(
        f"`{argument}` must have shape "
        f'[..., {", ".join(map(str, event))}] ({what}); got '
        f"{shape}."
    )


def check_conditioning(
    conditional_input, conditional_shape, argument="conditional_input"
):
  """Raises unless `conditional_input` is given exactly when conditional."""
  if conditional_shape is None and conditional_input is not None:
    raise ValueError(
        f"`{argument}` was given, but this model was built "
        "with conditional_shape=None."
    )
  if conditional_shape is not None and conditional_input is None:
    raise ValueError(
        f"`{argument}` is required: this model was built with "
        f"conditional_shape={tuple(conditional_shape)}."
    )


def conditional_batch(
    conditional_input,
    conditional_shape,
    n,
    dtype,
    argument="conditional_input",
    exact=False,
):
  """Checks `conditional_input` and tiles it to `[n, D]` like TFP does.

  Args:
    conditional_input: array-like `[*batch, *conditional_shape]`, or None.
    conditional_shape: the model's conditional shape, or None.
    n: number of samples; must be a multiple of the batch size.
    exact: the batch size must be 1 or `n` (one input per image).

  Returns:
    `[n, prod(conditional_shape)]` tensor, or None for unconditional models.
  """
  check_conditioning(conditional_input, conditional_shape, argument)
  if conditional_shape is None:
    return None
  cond = tf.convert_to_tensor(conditional_input, dtype_hint=dtype)
  cond = tf.cast(cond, dtype)
  event = tuple(conditional_shape)
  shape = tuple(cond.shape.as_list())
  if None in shape:
    raise ValueError(f"`{argument}` must have a static shape; got {shape}.")
  check_event_shape(argument, shape, event, "conditional_shape")
  batch = int(np.prod(shape[: len(shape) - len(event)], dtype=np.int64))
  if exact and batch not in (1, n):
    raise ValueError(
        f"`{argument}` must hold one input per image ({n}) or "
        f"one for all; got a batch of {batch}."
    )
  if batch == 0 or n % batch:
    raise ValueError(
        f"The number of samples ({n}) must be a multiple of the "
        f"`{argument}` batch size ({batch})."
    )
  flat = tf.reshape(cond, [batch, int(np.prod(event, dtype=np.int64))])
  return tf.tile(flat, [n // batch, 1])


def check_images(argument, images, image_shape, low, high, dtype):
  """`images` as a `[B, H, W, C]` tensor of integers in [low, high].

  The values are checked wherever they are known when the graph is built
  (always, eagerly).
  """
  x = tf.cast(tf.convert_to_tensor(images, dtype_hint=dtype), dtype)
  event = tuple(image_shape)
  shape = tuple(x.shape.as_list()) if x.shape.rank is not None else None
  if (
      shape is None
      or len(shape) != 4
      or shape[1:] != event
      or (shape[0] is None)
  ):
    raise ValueError(
        f"`{argument}` must have shape [batch, "
        f'{", ".join(map(str, event))}] (image_shape), with a '
        f"known batch size; got {shape}."
    )
  values = tf.get_static_value(x)
  if values is not None and values.size:
    if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
      raise ValueError(f"`{argument}` must hold integer pixel values.")
    if values.min() < low or values.max() > high:
      raise ValueError(
          f"`{argument}` must lie in [low, high] = [{low}, "
          f"{high}]; got values in [{values.min():g}, "
          f"{values.max():g}]."
      )
  return x


def num_observed(value, num_pixels):
  """`num_observed` as an int in [0, num_pixels], or an int32 tensor."""
  if isinstance(value, tf.Tensor) and tf.get_static_value(value) is None:
    if not value.dtype.is_integer or value.shape.rank not in (0, None):
      raise TypeError(
          "`num_observed` must be an integer scalar; got " f"{value}."
      )
    return tf.cast(value, tf.int32)
  out = as_int("num_observed", value, minimum=0)
  if out > num_pixels:
    raise ValueError(
        f"`num_observed` must be in [0, H*W] = [0, {num_pixels}]"
        f"; got {out}."
    )
  return tf.constant(out, tf.int32)
