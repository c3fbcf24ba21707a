"""A SavedModel of a FastPixelCNN that needs only TensorFlow to load and run.

`tf.saved_model.save` cannot save the distribution itself: TFP's WeightNorm
wrapper sets tensors on its inner layer while Keras traces it, and saving the
Keras layers then fails on a captured graph tensor. The export therefore
tracks only the network's variables, and its functions compute with them
directly (the cached generator, and `log_prob` through the network call),
so nothing Keras- or TFP-specific is saved and no Python code is needed to
load it.
"""

import time

import tensorflow as tf

from tfp_fastpixel import _execution
from tfp_fastpixel import network

# The exported functions, in the order `export_saved_model` traces them
# (`sample` calls `complete`).
FUNCTIONS = ("complete", "log_prob", "sample")


def export_saved_model(dist, export_dir: str, verbose: bool = True) -> str:
  """Writes `dist` as a SavedModel that needs only TensorFlow.

  The loaded object has three functions (also exported as the named
  signatures `sample`, `log_prob` and `complete`, with
  `serving_default` = `sample`, returning `{'images': ...}` or
  `{'log_prob': ...}`):

  ```python
  m = tf.saved_model.load(export_dir)
  x = m.sample(n=tf.constant(8), seed=tf.constant([1, 2]),
               conditional_input=tf.fill([8], 3.))     # [8, H, W, C]
  lp = m.log_prob(images=x, conditional_input=tf.fill([8], 3.))   # [8]
  y = m.complete(images=x, num_observed=tf.constant(392),
                 seed=tf.constant([3, 4]),
                 conditional_input=tf.fill([8], 3.))   # [8, H, W, C]
  ```

  `conditional_input` is `[n, *conditional_shape]`, one per image, and is
  absent for unconditional models. For a seed, `sample` and `complete` give
  exactly the live model's images (it runs the same generator, on the path
  `dist.uses_xla()` picks).

  Args:
    dist: a `FastPixelCNN`.
    export_dir: where to write (a new or empty directory).
    verbose: print what is being traced and how long it took.

  Returns:
    `export_dir`.
  """
  from tfp_fastpixel.distribution import FastPixelCNN  # no import cycle

  if not isinstance(dist, FastPixelCNN):
    raise TypeError(
        f"`dist` must be a FastPixelCNN; got {type(dist).__name__}."
    )
  if tf.io.gfile.exists(export_dir) and tf.io.gfile.listdir(export_dir):
    raise ValueError(
        f"`export_dir` must be new or empty; {export_dir!r} holds files."
    )
  start = time.time()
  h, w, c = dist.image_shape.as_list()
  conditional = dist.conditional_shape is not None
  dtype = dist.dtype
  if conditional:
    cond_shape = dist.conditional_shape.as_list()
    example = tf.zeros([1] + cond_shape, dtype)
  _execution.prepare(dist, 1, example if conditional else None)
  generate = _execution.traced_generator(dist)

  def flat_cond(cond):
    if not conditional:
      return None
    return tf.reshape(tf.cast(cond, dtype), [tf.shape(cond)[0], -1])

  # `conditional_input` is the callers' keyword; absent when unconditional
  # (the input signatures then end before it).
  def sample(n, seed, conditional_input=None):
    # Sampling is completion with nothing observed (as in the live model):
    # calling the exported `complete` keeps one generator graph in the export.
    tf.debugging.assert_non_negative(n, message="`n` must be >= 0")
    extra = [conditional_input] if conditional else []
    return module.complete(
        tf.zeros([n, h, w, c], dtype), tf.constant(0), seed, *extra
    )

  def log_prob(images, conditional_input=None):
    return dist.log_prob(
        images, conditional_input=conditional_input, training=False
    )

  def complete(images, num_observed, seed, conditional_input=None):
    n = tf.shape(images)[0]
    tf.debugging.assert_less_equal(
        num_observed,
        h * w,
        message=(f"`num_observed` must be in [0, H*W] = [0, {h * w}]"),
    )
    tf.debugging.assert_non_negative(
        num_observed, message=("`num_observed` must be in [0, H*W]")
    )
    if conditional:
      tf.debugging.assert_equal(
          tf.shape(conditional_input)[0],
          n,
          message=(
              "`conditional_input` must hold one input per image ([n, ...])"
          ),
      )
    args = [n] + ([flat_cond(conditional_input)] if conditional else [])
    return generate(*args, seed, images, num_observed)

  images_spec = tf.TensorSpec([None, h, w, c], dtype, name="images")
  specs = dict(
      n=tf.TensorSpec([], tf.int32, name="n"),
      seed=tf.TensorSpec([2], tf.int32, name="seed"),
      num_observed=tf.TensorSpec([], tf.int32, name="num_observed"),
  )
  if conditional:
    cond_spec = [
        tf.TensorSpec([None] + cond_shape, dtype, name="conditional_input")
    ]
  else:
    cond_spec = []
  module_fns = dict(sample=sample, log_prob=log_prob, complete=complete)
  signatures = dict(
      sample=[specs["n"], specs["seed"]] + cond_spec,
      log_prob=[images_spec] + cond_spec,
      complete=[images_spec, specs["num_observed"], specs["seed"]] + cond_spec,
  )
  outputs = dict(sample="images", log_prob="log_prob", complete="images")

  module = tf.Module()
  module.weights = list(dist.network.weights)  # variables only, no layers
  concrete = {}
  # Traced (and saved) with the weights known to be initialised, so that the
  # graphs hold no weight-norm init branches (most of the graph otherwise).
  with network.initialized_calls(dist.network):
    for name in FUNCTIONS:
      t = time.time()
      fn = tf.function(
          module_fns[name], input_signature=signatures[name], autograph=False
      )
      setattr(module, name, fn)
      # Traced here, once; the signature and `sample` call this trace (a
      # call from inside another trace would trace it again).
      traced = fn.get_concrete_function()
      concrete[name] = tf.function(
          lambda *a, fn=traced, key=outputs[name]: {key: fn(*a)},
          input_signature=signatures[name],
          autograph=False,
      ).get_concrete_function()
      if verbose:
        print(f"export: traced {name} in {time.time() - t:.1f} s", flush=True)
    concrete["serving_default"] = concrete["sample"]
    t = time.time()
    tf.saved_model.save(module, export_dir, signatures=concrete)
  if verbose:
    print(
        f"export: wrote {export_dir} in {time.time() - t:.1f} s "
        f"({time.time() - start:.1f} s in all)",
        flush=True,
    )
  return export_dir
