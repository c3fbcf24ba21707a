"""Enumeration exactness: FastPixelCNN.sample draws from the density log_prob
scores, checked by a chi-square test over every possible image.

Each config trains a tiny conditional model to a peaked, correlated
distribution small enough to enumerate (256 or 4096 images). The exact
probability of every image comes from `log_prob`; 20k draws per label are
then tested against it. The same test must reject two wrong samplers on the
same weights, TFP's own (which feeds back unrounded values) and one that
draws pixels independently from their exact marginals, so a pass is
evidence, not a lack of power.
"""

import itertools
import time

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from tfp_fastpixel import FastPixelCNN
from tfp_fastpixel import from_pixelcnn

tfd = tfp.distributions

pytestmark = pytest.mark.slow

NUM_SAMPLES = 20_000
LABELS = (0, 1)
# Fast sampler must pass, wrong samplers must fail, at this level.
ALPHA = 1e-4

CONFIGS = {
    # Level 1 of the hierarchy is 1x1: exercises the down/up path and the
    # weight-norm guard for channels that see only padding.
    "gray_2x2_high3_hier2": dict(
        image_shape=(2, 2, 1),
        high=3,
        num_hierarchies=2,
        num_filters=12,
        num_logistic_mix=3,
    ),
    # high=1 maximises the gap between quantized and unrounded feedback;
    # 3 channels exercise the RGB coupling.
    "rgb_2x2_high1": dict(
        image_shape=(2, 2, 3),
        high=1,
        num_hierarchies=1,
        num_filters=12,
        num_logistic_mix=3,
    ),
}


def chi_square_pvalue(observed, expected, min_expected=5.0):
  """Pearson chi-square goodness-of-fit p-value of counts against a model.

  Cells whose expected count is below `min_expected` are pooled into one
  cell (the chi-square approximation needs roughly >= 5 per cell); if that
  pool is itself still too small it joins the smallest regular cell. The
  p-value is the chi-square survival function, computed with
  `tf.math.igammac(df / 2, stat / 2)`, df = cells - 1.

  Args:
    observed: counts per cell, shape [num_cells].
    expected: expected counts per cell (same total as `observed`).
    min_expected: pooling threshold.

  Returns:
    (p_value, statistic, df).
  """
  observed = np.asarray(observed, np.float64)
  expected = np.asarray(expected, np.float64)
  small = expected < min_expected
  obs = list(observed[~small])
  exp = list(expected[~small])
  pool_obs, pool_exp = observed[small].sum(), expected[small].sum()
  if pool_exp >= min_expected:
    obs.append(pool_obs)
    exp.append(pool_exp)
  elif small.any():
    i = int(np.argmin(exp))
    obs[i] += pool_obs
    exp[i] += pool_exp
  obs, exp = np.array(obs), np.array(exp)
  stat = float(np.sum((obs - exp) ** 2 / exp))
  df = len(obs) - 1
  p = float(
      tf.math.igammac(
          tf.constant(df / 2, tf.float64), tf.constant(stat / 2, tf.float64)
      )
  )
  return p, stat, df


def _synthetic_images(rng, n, label, image_shape, high):
  """Peaked, correlated, label-dependent training images.

  Every pixel of an image shares one of two colours (label 0), or the
  colours alternate in a checkerboard (label 1); then a few pixels are
  replaced by noise so that every image keeps some mass.

  Grayscale uses interior values (1 and high-1) jittered by +-1: TFP's
  sampler clips its unrounded draw to [low, high], so mass at the edges,
  or logistics too narrow to stray from integers, would hide the
  difference between unrounded and quantized feedback that the test must
  detect. RGB needs no jitter: its coupling of channels through the
  unrounded earlier channels already differs a lot at high=1.
  """
  h, w, c = image_shape
  if c == 3:
    colour_a = np.array([high, 0, 0])  # red: channels coupled
    colour_b = np.array([0, high, high])  # cyan
  else:
    colour_a, colour_b = np.full(c, 1), np.full(c, high - 1)
  flip = rng.random(n) < 0.5
  first = np.where(flip[:, None], colour_b, colour_a)  # [n, c]
  second = np.where(flip[:, None], colour_a, colour_b)
  images = np.empty((n, h, w, c), np.int64)
  for i, j in itertools.product(range(h), range(w)):
    images[:, i, j] = second if (label == 1 and (i + j) % 2) else first
  if c == 1:
    jitter = rng.choice([-1, 0, 1], size=images.shape, p=[0.15, 0.7, 0.15])
    images = np.clip(images + jitter, 0, high)
  noise = rng.random((n, h, w, 1)) < 0.08
  images = np.where(noise, rng.integers(0, high + 1, images.shape), images)
  return images.astype(np.float32)


def _train(config, seed):
  """A FastPixelCNN fitted (a few seconds) to `_synthetic_images`."""
  tf_keras.utils.set_random_seed(seed)
  image_shape, high = config["image_shape"], config["high"]
  dist = FastPixelCNN(
      conditional_shape=(), num_resnet=1, dropout_p=0.0, low=0, **config
  )
  rng = np.random.default_rng(seed)
  per_label = 2048
  images = np.concatenate(
      [
          _synthetic_images(rng, per_label, lab, image_shape, high)
          for lab in LABELS
      ]
  )
  labels = np.repeat(np.array(LABELS, np.float32), per_label)

  # Weight norm's data-dependent init runs on fit's first (mixed-label)
  # batch. At level 1 (1x1) some channels see only the label; the init
  # guard must keep them from being blown up (they were, and this diverged).

  x = tf_keras.layers.Input(shape=image_shape)
  c = tf_keras.layers.Input(shape=())
  lp = dist.log_prob(x, conditional_input=c)
  model = tf_keras.Model([x, c], lp)
  model.add_loss(-tf.reduce_mean(lp))
  model.compile(tf_keras.optimizers.Adam(1e-2))
  model.fit([images, labels], batch_size=128, epochs=8, shuffle=True, verbose=0)
  return dist


def _cell_index(images, high):
  """Row-major base-(high+1) number of each image (matches `all_images`)."""
  flat = np.rint(np.asarray(images)).astype(np.int64)
  flat = flat.reshape(flat.shape[0], -1)
  weights = (high + 1) ** np.arange(flat.shape[1] - 1, -1, -1)
  return flat @ weights


def _pixel_marginals(probs, image_shape, high):
  """Exact marginal of each pixel (all channels jointly): [H*W, (high+1)^C]."""
  h, w, c = image_shape
  joint = probs.reshape([(high + 1) ** c] * (h * w))
  return np.stack(
      [
          joint.sum(axis=tuple(a for a in range(h * w) if a != k))
          for k in range(h * w)
      ]
  )


def _independent_probs(marginals):
  """Probability of every image if pixels were independent."""
  out = marginals[0]
  for m in marginals[1:]:
    out = np.multiply.outer(out, m)
  return out.reshape(-1)


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def trained(request, all_images):
  """(name, config, dist, {label: exact probabilities of every image})."""
  config = CONFIGS[request.param]
  start = time.time()
  dist = _train(config, seed=1234)
  images = all_images(config["image_shape"], config["high"])
  probs = {}
  for label in LABELS:
    lp = dist.log_prob(images, conditional_input=float(label))
    probs[label] = np.exp(np.asarray(lp, np.float64))
  print(f"\n[{request.param}] trained + scored in {time.time() - start:.1f}s")
  return request.param, config, dist, probs


def test_log_prob_is_normalised_peaked_and_correlated(trained):
  name, config, _, probs = trained
  num_cells = (config["high"] + 1) ** int(np.prod(config["image_shape"]))
  for label in LABELS:
    p = probs[label]
    # Sums to 1 over all images: log_prob is a distribution and the masks
    # hold (a pixel seeing itself or later pixels would break this).
    assert p.sum() == pytest.approx(1.0, abs=1e-3), (name, label)
    # Power: a near-uniform or independent model would make the sampler
    # tests vacuous.
    assert p.max() > 5.0 / num_cells, (name, label, p.max() * num_cells)
    indep = _independent_probs(
        _pixel_marginals(p / p.sum(), config["image_shape"], config["high"])
    )
    tv = 0.5 * np.abs(p / p.sum() - indep).sum()
    assert tv > 0.05, (name, label, tv)
    print(
        f"\n[{name}] label {label}: sum={p.sum():.6f}, "
        f"max/uniform={p.max() * num_cells:.1f}, TV to independent={tv:.3f}"
    )
  # The label matters.
  tv_labels = 0.5 * np.abs(probs[0] - probs[1]).sum()
  assert tv_labels > 0.1, (name, tv_labels)


def _gof(samples, probs, config):
  """Chi-square p-value of `samples` against exact `probs`."""
  counts = np.bincount(
      _cell_index(samples, config["high"]), minlength=probs.size
  )
  return chi_square_pvalue(counts, NUM_SAMPLES * probs / probs.sum())


# "xla_packed": the compiled core as a GPU gets it (each level's pixel
# caches as one tensor), forced here on the CPU.
PATHS = ("graph", "xla", "xla_packed")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("label", LABELS)
def test_fast_sampler_matches_log_prob(trained, label, path):
  name, config, trained_dist, probs = trained
  jit_compile = path != "graph"
  dist = from_pixelcnn(trained_dist, jit_compile=jit_compile)
  dist._pack_caches = path == "xla_packed"
  assert dist.uses_xla() == jit_compile
  start = time.time()
  # A different seed per path: independent tests, not one repeated.
  seed = 100 + label + 10 * PATHS.index(path)
  samples = dist.sample(NUM_SAMPLES, seed=seed, conditional_input=float(label))
  elapsed = time.time() - start
  p, stat, df = _gof(samples, probs[label], config)
  print(
      f"\n[{name}] label {label}: fast sampler ({path}) p={p:.3g} "
      f"(chi2={stat:.1f}, df={df}, {elapsed:.1f}s)"
  )
  assert p > ALPHA, (
      f"{name} label {label}: fast sampler p={p:.3g}, "
      f"chi2={stat:.1f}, df={df}"
  )


@pytest.mark.parametrize("label", LABELS)
def test_tfp_sampler_is_rejected(trained, label):
  name, config, dist, probs = trained
  # TFP's own sampler on the same weights feeds back the unrounded draw.
  samples = tfd.PixelCNN._sample_n(
      dist, NUM_SAMPLES, seed=200 + label, conditional_input=float(label)
  )
  p, stat, df = _gof(samples, probs[label], config)
  print(
      f"\n[{name}] label {label}: TFP sampler p={p:.3g} "
      f"(chi2={stat:.1f}, df={df})"
  )
  assert p < ALPHA, (
      f"{name} label {label}: TFP sampler p={p:.3g}, "
      f"chi2={stat:.1f}, df={df}: test has no power"
  )


@pytest.mark.parametrize("label", LABELS)
def test_independent_pixel_sampler_is_rejected(trained, label):
  name, config, _, probs = trained
  h, w, c = config["image_shape"]
  high = config["high"]
  p_label = probs[label] / probs[label].sum()
  marginals = _pixel_marginals(p_label, config["image_shape"], high)
  rng = np.random.default_rng(300 + label)
  # Each pixel's colour index (base high+1 over channels), independently.
  colour = np.stack(
      [rng.choice(m.size, NUM_SAMPLES, p=m / m.sum()) for m in marginals],
      axis=1,
  )  # [n, H*W]
  digits = (colour[..., None] // (high + 1) ** np.arange(c - 1, -1, -1)) % (
      high + 1
  )  # [n, H*W, C]
  samples = digits.reshape(NUM_SAMPLES, h, w, c)
  p, stat, df = _gof(samples, probs[label], config)
  print(
      f"\n[{name}] label {label}: independent sampler p={p:.3g} "
      f"(chi2={stat:.1f}, df={df})"
  )
  assert p < ALPHA, (
      f"{name} label {label}: independent sampler p={p:.3g},"
      f" chi2={stat:.1f}, df={df}: test has no power"
  )


# -- Completion: p(rest | observed prefix) -------------------------------------


def _prefix_cells(config, num_observed, images):
  """Each image's prefix (first `num_observed` pixels, all channels) as one
  number, for every image in `all_images` order (so prefix-major)."""
  flat = images.reshape(len(images), -1)[
      :, : num_observed * config["image_shape"][-1]
  ]
  return _cell_index(flat, config["high"])


def _most_informative_prefix(probs, cells):
  """The prefix whose conditional differs most (in TV) from ignoring it,
  which is where a completion that ignores the prefix is easiest to catch.

  Images are numbered prefix-major, so `probs` reshapes to [prefix, rest].
  """
  table = (probs / probs.sum()).reshape(cells.max() + 1, -1)
  conditional = table / table.sum(1, keepdims=True)
  tv = 0.5 * np.abs(conditional - table.sum(0)).sum(1)
  return int(np.argmax(tv)), float(tv.max())


@pytest.mark.parametrize("num_observed", [1, 2])
def test_completion_matches_conditional_and_ignoring_prefix_is_rejected(
    trained, num_observed, all_images
):
  name, config, dist, probs = trained
  label = num_observed - 1
  images = all_images(config["image_shape"], config["high"])
  cells = _prefix_cells(config, num_observed, images)
  prefix, tv = _most_informative_prefix(probs[label], cells)
  assert tv > 0.05, (name, tv)  # the prefix matters: the test has power
  observed = images[np.flatnonzero(cells == prefix)[0]][None]
  keep = cells == prefix
  expected = np.where(keep, probs[label], 0.0)

  done = dist.complete(
      observed,
      num_observed,
      sample_shape=NUM_SAMPLES,
      seed=400 + num_observed,
      conditional_input=float(label),
  )[:, 0]
  p, stat, df = _gof(done, expected, config)
  print(
      f"\n[{name}] label {label}, {num_observed} observed: completion "
      f"p={p:.3g} (chi2={stat:.1f}, df={df}, TV to ignoring={tv:.2f})"
  )
  assert p > ALPHA, (name, num_observed, p, stat, df)

  # Wrong: fresh samples with the prefix pasted in (ignores the prefix).
  fresh = dist.sample(
      NUM_SAMPLES, seed=500 + num_observed, conditional_input=float(label)
  ).numpy()
  h, w, c = config["image_shape"]
  flat = fresh.reshape(NUM_SAMPLES, h * w, c)
  flat[:, :num_observed] = observed.reshape(h * w, c)[:num_observed]
  p_wrong, stat, df = _gof(flat.reshape(fresh.shape), expected, config)
  print(f"[{name}] prefix pasted on samples p={p_wrong:.3g}")
  assert p_wrong < ALPHA, (name, num_observed, p_wrong)


# -- The exported SavedModel and tf.compat.v1 graph mode ----------------------


def test_exported_model_matches_log_prob(trained, tmp_path):
  from tfp_fastpixel import export_saved_model

  name, config, dist, probs = trained
  m = tf.saved_model.load(
      export_saved_model(dist, str(tmp_path / "e"), verbose=False)
  )
  for label in LABELS:
    samples = m.sample(
        n=tf.constant(NUM_SAMPLES),
        seed=tf.constant([600, label]),
        conditional_input=tf.fill([NUM_SAMPLES], float(label)),
    )
    p, stat, df = _gof(samples, probs[label], config)
    print(f"\n[{name}] label {label}: exported sampler p={p:.3g}")
    assert p > ALPHA, (name, label, p, stat, df)


def test_graph_mode_sampler_matches_log_prob(trained):
  name, config, dist, probs = trained
  weights = dist.network.get_weights()
  with tf.Graph().as_default():
    copy = FastPixelCNN(
        conditional_shape=(), num_resnet=1, dropout_p=0.0, low=0, **config
    )
    draws = [
        copy.sample(
            NUM_SAMPLES, seed=700 + label, conditional_input=float(label)
        )
        for label in LABELS
    ]
    assigns = [v.assign(w) for v, w in zip(copy.network.weights, weights)]
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      sess.run(assigns)
      samples = sess.run(draws)
  for label, s in zip(LABELS, samples):
    p, stat, df = _gof(s, probs[label], config)
    print(f"\n[{name}] label {label}: graph-mode sampler p={p:.3g}")
    assert p > ALPHA, (name, label, p, stat, df)
