"""FastPixelCNN as a tfd.PixelCNN: weights, log_prob, masks, seeds, tracing,
sample shapes and bad input."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from tfp_fastpixel import FastPixelCNN
from tfp_fastpixel import _execution
from tfp_fastpixel import _tf_compat
from tfp_fastpixel import from_pixelcnn
from tfp_fastpixel import network

tfd = tfp.distributions

TINY = dict(num_resnet=1, num_filters=4, num_logistic_mix=2, dropout_p=0.0)


@pytest.fixture(autouse=True)
def _seed():
  tf.keras.utils.set_random_seed(1)


def _init(dist, cond=None):
  """Runs the network once (weight norm's data-dependent init)."""
  x = tf.random.uniform([4] + dist.image_shape.as_list(), -1.0, 1.0)
  dist.network(x if cond is None else [x, cond], training=False)


# -- Same network, same weights, same log_prob -------------------------------


@pytest.mark.slow
def test_log_prob_matches_tfd_pixelcnn_on_shared_weights():
  args = dict(
      TINY,
      image_shape=(4, 4, 3),
      conditional_shape=(),
      num_hierarchies=2,
      high=7,
  )
  fast, slow = FastPixelCNN(**args), tfd.PixelCNN(**args)
  cond = tf.constant([0.0, 1.0, 2.0, 3.0])
  _init(fast, cond)
  _init(slow, cond)
  images = tf.random.stateless_uniform([4, 4, 4, 3], [3, 4], 0, 8, tf.int32)
  images = tf.cast(images, tf.float32)

  slow.network.set_weights(fast.network.get_weights())
  np.testing.assert_allclose(
      fast.log_prob(images, conditional_input=cond),
      slow.log_prob(images, conditional_input=cond),
      rtol=1e-5,
  )
  # And back: a copy made from the tfd.PixelCNN scores the same.
  copy = from_pixelcnn(slow)
  np.testing.assert_allclose(
      copy.log_prob(images, conditional_input=cond),
      slow.log_prob(images, conditional_input=cond),
      rtol=1e-5,
  )
  assert copy.network is not slow.network


def test_public_face_is_tfd_pixelcnns_plus_three_names():
  def public(obj):
    return {n for n in dir(obj) if not n.startswith("_")}

  args = dict(TINY, image_shape=(2, 2, 1), num_hierarchies=1)
  dist = FastPixelCNN(**args)
  tfp_names = public(tfd.PixelCNN(**args))
  extra = {"complete", "jit_compile", "uses_xla"}
  assert public(FastPixelCNN) == public(tfd.PixelCNN) | extra
  assert public(dist) == tfp_names | extra
  import tfp_fastpixel

  assert tfp_fastpixel.__all__ == [
      "FastPixelCNN",
      "from_pixelcnn",
      "export_saved_model",
  ]


def test_parameters_keep_jit_compile_and_match_tfd_pixelcnns():
  args = dict(TINY, image_shape=(2, 2, 1), num_hierarchies=1, high=15)
  dist = FastPixelCNN(jit_compile=False, **args)
  assert dist.copy().jit_compile is False
  assert dist.copy(jit_compile=True).jit_compile is True
  assert FastPixelCNN(**args).copy().jit_compile is None
  ours = dict(dist.parameters)
  assert ours.pop("jit_compile") is False
  theirs = tfd.PixelCNN(name="FastPixelCNN", **args).parameters
  assert ours.keys() == theirs.keys()
  for key, value in theirs.items():
    assert ours[key] == value, key


def test_keras3_inputs_get_a_clear_error():
  keras = pytest.importorskip("keras")
  if not keras.__version__.startswith("3"):
    pytest.skip("`import keras` is Keras 2 here")
  dist = FastPixelCNN(
      conditional_shape=(),
      **dict(TINY, image_shape=(2, 2, 1), num_hierarchies=1),
  )
  image, label = keras.Input(shape=(2, 2, 1)), keras.Input(shape=())
  with pytest.raises(TypeError, match="`value`.*Keras 3.*tf_keras.Input"):
    dist.log_prob(image, conditional_input=label)
  with pytest.raises(TypeError, match="`conditional_input`.*Keras 3"):
    dist.log_prob(tf.zeros([1, 2, 2, 1]), conditional_input=label)
  with pytest.raises(TypeError, match="TF_USE_LEGACY_KERAS=1"):
    dist.sample(1, conditional_input=label)
  # tf_keras inputs still work.
  lp = dist.log_prob(
      tf_keras.Input(shape=(2, 2, 1)), conditional_input=tf_keras.Input(())
  )
  assert lp.shape.as_list() == [None]


def test_from_pixelcnn_rejects_other_objects():
  with pytest.raises(TypeError, match="dist"):
    from_pixelcnn("not a distribution")


# -- Masks hold from construction --------------------------------------------


@pytest.mark.parametrize(
    "num_hierarchies", [1, pytest.param(2, marks=pytest.mark.slow)]
)
def test_untrained_model_is_a_distribution(num_hierarchies, all_images):
  args = dict(
      TINY, image_shape=(2, 2, 1), num_hierarchies=num_hierarchies, high=3
  )
  images = all_images((2, 2, 1), 3)
  total = float(tf.reduce_sum(tf.exp(FastPixelCNN(**args).log_prob(images))))
  assert total == pytest.approx(1.0, abs=1e-4)
  # TFP's own untrained model leaks through its masks, so it does not sum to
  # one: the check has power.
  leaky = float(tf.reduce_sum(tf.exp(tfd.PixelCNN(**args).log_prob(images))))
  assert abs(leaky - 1.0) > 1e-3


def _pixel_dependencies(dist):
  """[H*W, H*W] bool: entry (p, q) if pixel p's parameters depend on q."""
  h, w, c = dist.image_shape.as_list()
  x = tf.random.stateless_uniform([1, h, w, c], [5, 6], -1.0, 1.0)
  deps = np.zeros([h * w, h * w], bool)
  for p in range(h * w):
    with tf.GradientTape() as tape:
      tape.watch(x)
      params = dist.network(x, training=False)
      target = sum(tf.reduce_sum(t[0, p // w, p % w]) for t in params)
    grad = tape.gradient(target, x)[0]
    deps[p] = np.abs(grad.numpy()).sum(-1).ravel() > 0
  return deps


@pytest.mark.slow
def test_untrained_model_is_autoregressive_by_gradient():
  args = dict(TINY, image_shape=(4, 4, 1), num_hierarchies=2)
  deps = _pixel_dependencies(FastPixelCNN(**args))
  # Pixel p may depend only on pixels before it in raster order.
  assert not np.triu(deps).any()
  assert np.tril(deps, -1).any()
  leaky = _pixel_dependencies(tfd.PixelCNN(**args))
  assert np.triu(leaky).any()


def _fit_2x2(dist, conditional, epochs):
  """Trains on 2x2 images where all pixels copy the label (plus noise)."""
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 2, 1024).astype(np.float32)
  images = np.repeat(3 * labels[:, None], 4, 1).reshape(-1, 2, 2, 1)
  noisy = rng.random(images.shape) < 0.1
  images = np.where(noisy, rng.integers(0, 4, images.shape), images)
  image_input = tf_keras.layers.Input(shape=(2, 2, 1))
  label_input = tf_keras.layers.Input(shape=())
  inputs = [image_input, label_input] if conditional else image_input
  log_prob = dist.log_prob(
      image_input, conditional_input=label_input if conditional else None
  )
  model = tf_keras.Model(inputs, log_prob)
  model.add_loss(-tf.reduce_mean(log_prob))
  model.compile(tf_keras.optimizers.Adam(1e-3))
  data = [images.astype(np.float32), labels] if conditional else images
  return model.fit(data, epochs=epochs, batch_size=64, verbose=0).history


@pytest.mark.slow
@pytest.mark.parametrize("conditional", [False, True])
def test_enforced_masks_before_data_init_train_well(conditional):
  # 2x2 images, two levels: level 1 (1x1) sees only padding, or only the
  # label, so TFP's data init would scale its channels by up to 1e5 and
  # training would give NaN (or get stuck at a bad loss).
  dist = FastPixelCNN(
      **dict(
          TINY,
          image_shape=(2, 2, 1),
          num_hierarchies=2,
          high=3,
          num_filters=8,
          conditional_shape=() if conditional else None,
      )
  )
  loss = _fit_2x2(dist, conditional, epochs=4)["loss"]
  assert np.all(np.isfinite(loss)), loss
  assert network.masks_hold(dist.network)
  # Uniform is 4 ln 4 = 5.5 nats; the data are far from uniform.
  assert loss[-1] < (2.5 if conditional else 4.0), loss


def test_sampling_refuses_weights_that_break_the_masks():
  args = dict(TINY, image_shape=(2, 2, 1), high=3, num_hierarchies=1)
  leaky = tfd.PixelCNN(**args)
  _init(leaky)
  fast = FastPixelCNN(**args)
  fast.network.set_weights(leaky.network.get_weights())
  with pytest.raises(ValueError, match="masks"):
    fast.sample(2)
  network.enforce_masks(fast.network)
  assert fast.sample(2).shape == (2, 2, 2, 1)


def test_weight_norm_is_built_untraced_and_tfps_call_comes_back():
  # While Keras builds the network, WeightNorm's class-wide call is the
  # weight-normed layer alone (no tf.function to trace); TFP's traced call
  # is back afterwards, after a failed build too, so a tfd.PixelCNN built
  # later still initialises on its first call.
  traced = network.WeightNorm.__dict__["call"]
  assert hasattr(traced, "get_concrete_function")  # TFP's tf.function
  with pytest.raises(RuntimeError):
    with network.untraced_build():
      assert network.WeightNorm.call is not traced
      raise RuntimeError
  args = dict(TINY, image_shape=(2, 2, 1), high=3, num_hierarchies=1)
  FastPixelCNN(**args)
  assert network.WeightNorm.__dict__["call"] is traced
  slow = tfd.PixelCNN(**args)
  norms = network.uninitialized_weight_norms(slow.network)
  assert norms and not any(bool(wn.initialized) for wn in norms)
  _init(slow)
  assert all(bool(wn.initialized) for wn in norms)


def test_readiness_check_reads_masks_and_weight_norm_init_as_they_change():
  args = dict(TINY, image_shape=(2, 2, 1), high=3, num_hierarchies=1)
  fast = FastPixelCNN(**args)
  check = network.readiness_check(fast.network)
  assert [bool(x) for x in check()] == [True, False]  # masked, not init
  _execution.prepare(fast, 2)
  assert [bool(x) for x in check()] == [True, True]
  # The same traced check sees later writes to the variables.
  leaky = tfd.PixelCNN(**args)
  _init(leaky)
  fast.network.set_weights(leaky.network.get_weights())
  assert [bool(x) for x in check()] == [False, True]
  network.enforce_masks(fast.network)
  assert [bool(x) for x in check()] == [True, True]
  # NaN weights fail it too, as the NumPy check did (NaN != NaN).
  var = network._masked_kernel_variables(fast.network)[0][0]
  var.assign(tf.fill(var.shape, np.nan))
  assert not bool(check()[0])


# -- Seeds and tracing -----------------------------------------------------


@pytest.fixture(scope="module")
def small_conditional():
  return FastPixelCNN(
      **dict(
          TINY,
          image_shape=(4, 4, 1),
          num_hierarchies=2,
          conditional_shape=(),
          high=15,
      )
  )


def test_seeds(small_conditional):
  dist = small_conditional

  def draw(seed):
    return dist.sample(6, seed=seed, conditional_input=1.0).numpy()

  np.testing.assert_array_equal(draw(3), draw(3))
  np.testing.assert_array_equal(draw(tf.constant([4, 5])), draw([4, 5]))
  assert not np.array_equal(draw(3), draw(4))
  assert not np.array_equal(draw(None), draw(None))


@pytest.mark.slow
def test_second_sample_call_does_not_retrace(small_conditional):
  dist = small_conditional
  dist.sample(5, seed=1, conditional_input=0.0)
  traces = _execution.trace_count(dist)
  dist.sample(5, seed=2, conditional_input=1.0)
  dist.sample(5, conditional_input=2.0)
  assert _execution.trace_count(dist) == traces
  # A new batch size relaxes the conditional input's batch dimension once...
  dist.sample(7, seed=1, conditional_input=0.0)
  assert _execution.trace_count(dist) <= traces + 1
  traces = _execution.trace_count(dist)
  # ...after which no sample size retraces.
  for n in (3, 9):
    dist.sample(n, seed=1, conditional_input=0.0)
  assert _execution.trace_count(dist) == traces


def test_unconditional_sample_sizes_share_one_trace():
  dist = FastPixelCNN(
      **dict(TINY, image_shape=(2, 2, 1), num_hierarchies=1, high=3)
  )
  for n in (1, 4, 6):
    assert dist.sample(n, seed=n).shape == (n, 2, 2, 1)
  assert _execution.trace_count(dist) == 1


def test_sample_shape_and_batched_conditioning():
  dist = FastPixelCNN(
      **dict(
          TINY,
          image_shape=(2, 2, 1),
          num_hierarchies=1,
          conditional_shape=(),
          high=3,
      )
  )
  # As in TFP's docstring: the conditional batch repeats over sample_shape.
  out = dist.sample((4, 3), seed=1, conditional_input=[1.0, 2.0, 3.0])
  assert out.shape == (4, 3, 2, 2, 1)
  lp = dist.log_prob(out, conditional_input=[1.0, 2.0, 3.0])
  assert lp.shape == (4, 3) and np.all(np.isfinite(lp))
  assert dist.sample(0, conditional_input=1.0).shape == (0, 2, 2, 1)


@pytest.mark.slow
def test_r_doubles_are_accepted_and_fractions_rejected():
  dist = FastPixelCNN(
      image_shape=[4.0, 4.0, 1.0],
      conditional_shape=[],
      num_resnet=1.0,
      num_hierarchies=2.0,
      num_filters=4.0,
      num_logistic_mix=2.0,
      receptive_field_dims=[3.0, 3.0],
      high=3.0,
  )
  assert dist.sample(2.0, seed=1, conditional_input=1.0).shape == (2, 4, 4, 1)
  assert dist.sample([2.0, 1.0], conditional_input=1.0).shape == (2, 1, 4, 4, 1)
  with pytest.raises(TypeError, match="image_shape.*4.5"):
    FastPixelCNN(image_shape=[4.5, 4.0, 1.0])
  with pytest.raises(TypeError, match="num_resnet"):
    FastPixelCNN(image_shape=(4, 4, 1), num_resnet=1.5)
  with pytest.raises(TypeError, match="sample_shape.*2.5"):
    dist.sample(2.5, conditional_input=1.0)
  # Seeds: a whole-number double is its int, in sample, complete and
  # sample_and_log_prob; fractions name the argument.
  x = dist.sample(2, seed=1.0, conditional_input=2.0)
  np.testing.assert_array_equal(x, dist.sample(2, seed=1, conditional_input=2))
  np.testing.assert_array_equal(
      dist.sample(2, seed=[4.0, 5.0], conditional_input=2.0),
      dist.sample(2, seed=[4, 5], conditional_input=2.0),
  )
  np.testing.assert_array_equal(
      dist.complete(x, 6.0, seed=3.0, conditional_input=2.0),
      dist.complete(x, 6, seed=3, conditional_input=2.0),
  )
  drawn, _ = dist.experimental_sample_and_log_prob(
      2, seed=1.0, conditional_input=2.0
  )
  np.testing.assert_array_equal(drawn, x)
  with pytest.raises(TypeError, match="`seed`.*1.5"):
    dist.sample(2, seed=1.5, conditional_input=1.0)
  with pytest.raises(TypeError, match="`seed`.*True"):
    dist.complete(x, 6, seed=True, conditional_input=1.0)
  with pytest.raises(ValueError, match="`seed`.*2 entries"):
    dist.sample(2, seed=[1, 2, 3], conditional_input=1.0)


# -- Bad input: a clear error, early, naming the argument ------------------


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        (
            dict(image_shape=(6, 8, 1), num_hierarchies=3),
            ValueError,
            "image_shape.*divisible by .*4",
        ),
        (dict(image_shape=(8, 8)), ValueError, "image_shape.*3 entries"),
        (dict(image_shape=(8, 8, 1, 1)), ValueError, "image_shape.*3 entries"),
        (
            dict(image_shape=(8, 8, 1), num_logistic_mix=0),
            ValueError,
            "num_logistic_mix.*>= 1",
        ),
        (
            dict(image_shape=(8, 8, 1), dropout_p=1.0),
            ValueError,
            r"dropout_p.*\[0, 1\)",
        ),
        (dict(image_shape=(8, 8, 1), dropout_p=-0.1), ValueError, "dropout_p"),
        (
            dict(image_shape=(8, 8, 1), high=0, low=0),
            ValueError,
            "high.*greater than.*low",
        ),
        (
            dict(image_shape=(8, 8, 1), resnet_activation="tanh"),
            ValueError,
            "resnet_activation",
        ),
        (
            dict(image_shape=(8, 8, 1), receptive_field_dims=(3, 4)),
            ValueError,
            "receptive_field_dims.*odd",
        ),
        (dict(image_shape=(8, 8, 1), dtype=tf.int32), TypeError, "dtype"),
        (
            dict(image_shape=(8, 8, 1), jit_compile="yes"),
            TypeError,
            "jit_compile.*None, True or False",
        ),
    ],
)
def test_bad_constructor_arguments(kwargs, error, pattern):
  with pytest.raises(error, match=pattern):
    FastPixelCNN(**dict(TINY, **kwargs))


def test_bad_sampling_and_scoring_input(small_conditional):
  dist = small_conditional
  images = tf.zeros([2, 4, 4, 1])
  with pytest.raises(ValueError, match="conditional_input.*required"):
    dist.sample(2)
  with pytest.raises(ValueError, match="conditional_input.*required"):
    dist.log_prob(images)
  vector = FastPixelCNN(
      **dict(
          TINY, image_shape=(4, 4, 1), num_hierarchies=1, conditional_shape=(2,)
      )
  )
  with pytest.raises(ValueError, match=r"conditional_input.*\[\.\.\., 2\]"):
    vector.sample(2, conditional_input=tf.zeros([2, 3]))
  with pytest.raises(ValueError, match=r"conditional_input.*\[\.\.\., 2\]"):
    vector.log_prob(images, conditional_input=tf.zeros([2, 3]))
  with pytest.raises(ValueError, match=r"multiple of .*batch size \(3\)"):
    dist.sample(4, conditional_input=[0.0, 1.0, 2.0])
  with pytest.raises(ValueError, match="sample_shape.*>= 0"):
    dist.sample(-1, conditional_input=0.0)
  with pytest.raises(ValueError, match="value.*4, 4, 1"):
    dist.log_prob(tf.zeros([2, 5, 4, 1]), conditional_input=[0.0, 1.0])
  unconditional = FastPixelCNN(
      **dict(TINY, image_shape=(2, 2, 1), num_hierarchies=1)
  )
  with pytest.raises(ValueError, match="conditional_shape=None"):
    unconditional.sample(2, conditional_input=1.0)


# -- Graph and XLA paths ------------------------------------------------------


@pytest.mark.slow
def test_graph_and_xla_paths_draw_the_same_images_for_a_seed():
  # The noise is drawn outside the compiled core, so both paths make the
  # same draws; only float rounding in the network may tip a rare pixel.
  args = dict(
      TINY,
      image_shape=(4, 4, 3),
      num_hierarchies=2,
      high=7,
      conditional_shape=(),
  )
  graph = FastPixelCNN(jit_compile=False, **args)
  graph.sample(1, seed=0, conditional_input=0.0)  # weight norm's init
  xla = from_pixelcnn(graph, jit_compile=True)
  assert not graph.uses_xla() and xla.uses_xla()
  a = graph.sample(16, seed=3, conditional_input=2.0).numpy()
  b = xla.sample(16, seed=3, conditional_input=2.0).numpy()
  assert np.mean(a == b) > 0.99
  c = xla.sample(16, seed=4, conditional_input=2.0).numpy()
  assert np.mean(b == c) < 0.9  # the seed matters


@pytest.mark.parametrize("xla", [False, True], ids=["graph", "xla"])
def test_eager_calls_keep_the_callers_optimizer_options(xla):
  # Eager calls run less of Grappler on this thread only (a new model's
  # first call is seconds shorter): the graph path a lighter pass list, the
  # XLA path none on its inputs' graph and readiness check. They restore
  # the caller's options, and draw what the same generator draws inside a
  # user's tf.function, which TF's default optimiser rewrites.
  dist = FastPixelCNN(
      jit_compile=xla, **dict(TINY, image_shape=(4, 4, 1), num_hierarchies=2)
  )
  before = _tf_compat.call_options()
  eager = dist.sample(6, seed=7).numpy()
  assert _tf_compat.call_options() == before
  inside = tf.function(lambda: dist.sample(6, seed=7))().numpy()
  np.testing.assert_array_equal(eager, inside)


def test_xla_inputs_read_the_same_bits_with_or_without_grappler():
  # Eagerly the XLA path reads and prepares the weights (weight norm, tap
  # matrices, conditional terms) with Grappler off; the export and calls
  # inside a tf.function optimise that graph. Their draws can only agree
  # if every prepared tensor does, bit for bit.
  dist = FastPixelCNN(
      jit_compile=True,
      conditional_shape=(3,),
      **dict(TINY, image_shape=(6, 4, 2), num_hierarchies=2, num_filters=8),
  )
  cond = tf.constant(np.random.default_rng(0).normal(size=(4, 3)), tf.float32)
  _execution.prepare(dist, 4, cond)
  executor = dist._executor
  inputs = tf.function(
      lambda *a: executor.traced_inputs(*a, xla=True), autograph=False
  )
  args = (
      tf.constant(4),
      cond,
      tf.constant([1, 2]),
      executor.nothing_observed(),
  )

  def read():
    return [t.numpy() for t in tf.nest.flatten(inputs(*args)) if t is not None]

  default = read()
  with _tf_compat.graph_optimizer(off=True):
    off = read()
  assert len(default) > 50
  for a, b in zip(default, off):
    np.testing.assert_array_equal(a, b)


def test_compiled_core_has_no_op_that_xla_lowers_one_at_a_time():
  # TF's bridge to XLA lowers some ops (sigmoid, einsum, tanh, ...) each
  # through an MLIR pipeline of its own, 7-10 ms apiece at compile time; on
  # QuickDraw's model the gates' sigmoids and the row-wide Dense layers'
  # einsums would be half the bridge's time. The core uses ops it lowers
  # directly: the gate as softplus's gradient, Dense as a broadcast matmul.
  dist = FastPixelCNN(
      jit_compile=True,
      conditional_shape=(),
      **dict(TINY, image_shape=(4, 4, 1), num_hierarchies=2),
  )
  cond = tf.zeros([2])
  _execution.prepare(dist, 2, cond)
  core, args = _execution.core_program(dist, 2, conditional_input=cond)
  ops = set(_graph_ops(core.get_concrete_function(*args)))
  assert "SoftplusGrad" in ops and "BatchMatMulV2" in ops  # gates, rows
  one_at_a_time = {"Sigmoid", "Einsum", "Tanh", "Softmax", "Reciprocal"}
  assert not ops & one_at_a_time


@pytest.mark.slow
def test_core_program_runs_at_a_static_batch_of_one():
  # The benchmarks compile the core for one batch size. At 1, broadcasting
  # with the loops' unknown batch must not change a loop variable's shape.
  dist = FastPixelCNN(
      jit_compile=True,
      **dict(TINY, image_shape=(4, 4, 1), num_hierarchies=2),
  )
  _execution.prepare(dist, 1)
  drawn = dist.sample(1, seed=[3, 4])
  for program in ("xla_cpu", "xla_accelerator", "xla_jacobi"):
    fast = _execution.with_program(dist, program)
    core, args = _execution.core_program(fast, 1, seed=[3, 4])
    np.testing.assert_array_equal(core(*args), drawn)  # the same images


def _graph_ops(concrete):
  """Op types of a concrete function's graph and the functions it calls."""
  graph = concrete.graph.as_graph_def()
  ops = [n.op for n in graph.node]
  return ops + [n.op for f in graph.library.function for n in f.node_def]


@pytest.mark.slow
def test_traced_sampler_has_no_strided_slices_per_layer():
  # Tracing is much of a new model's first call (about 8 of 20 s on
  # QuickDraw's), and each strided slice traces four graph ops. Reading the
  # weights slices none (splits and unstacks instead), and the core's
  # strided slices do not grow with the number of resnet blocks.
  def traced(num_resnet):
    dist = FastPixelCNN(
        jit_compile=True,
        conditional_shape=(),
        receptive_field_dims=(3, 5),  # carried sums with tails
        **dict(TINY, image_shape=(4, 4, 1), num_resnet=num_resnet),
    )
    cond = tf.zeros([2])
    _execution.prepare(dist, 2, cond)
    executor = dist._executor
    n, cond_spec, seed, observed = executor.generator_specs()
    for xla in (False, True):  # the graph program's weights, the core's
      inputs = tf.function(
          lambda *a, xla=xla: executor.traced_inputs(*a, xla=xla),
          autograph=False,
      ).get_concrete_function(n, cond_spec, seed, observed)
      assert "StridedSlice" not in _graph_ops(inputs)
    core, args = _execution.core_program(dist, 2, conditional_input=cond)
    ops = _graph_ops(core.get_concrete_function(*args))
    return ops.count("StridedSlice"), ops.count("Conv2D")

  (slices_1, convs_1), (slices_2, convs_2) = traced(1), traced(2)
  assert convs_2 > convs_1  # more blocks were traced
  assert slices_2 == slices_1


@pytest.mark.slow
def test_automatic_path_and_progress(capsys):
  dist = FastPixelCNN(**dict(TINY, image_shape=(4, 4, 1), num_hierarchies=2))
  assert dist.jit_compile is None
  assert isinstance(dist.uses_xla(), bool)
  # The progress bar is a host callback, so it takes the graph path.
  assert not dist.uses_xla(progress=True)
  _init(dist)  # weight norm's data-dependent init, before the copy
  graph = from_pixelcnn(dist, jit_compile=False)
  quiet = graph.sample(3, seed=5)
  loud = dist.sample(3, seed=5, progress=True)
  np.testing.assert_array_equal(quiet, loud)
  assert "4/4" in capsys.readouterr().out  # rows done, of 4
