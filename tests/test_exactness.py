"""Enumeration exactness: FastPixelCNN.sample draws from the density log_prob
scores, checked by a chi-square test over every possible image.

Each config is a tiny conditional model trained to a peaked, correlated
distribution small enough to enumerate (256 or 4096 images), loaded from
tests/data/ (`make_models.py` trains them). The exact probability of every
image comes from `log_prob`; 20k draws per label from each of the
generator's programs are then tested against it. The same test must reject
wrong samplers on the same weights: TFP's own (which feeds back unrounded
values; 20k draws), one that draws pixels independently from their exact
marginals, a completion that ignores its prefix, and the Jacobi program
stopped after one pass per row (5k draws each). So a pass is evidence, not
a lack of power.
"""

import time

import make_models
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_fastpixel import _execution
from tfp_fastpixel import layouts

tfd = tfp.distributions

pytestmark = pytest.mark.slow

# Draws for the samplers that must pass, and for TFP's sampler, whose
# departure on the gray model is the subtlest (at 5k draws its chi-square
# would clear the threshold by little more than one standard deviation).
# The other wrong samplers are rejected with fewer: at 5k draws their
# chi-square is still many times its degrees of freedom.
NUM_SAMPLES = 20_000
NUM_WRONG = 5_000
LABELS = (0, 1)
# Fast sampler must pass, wrong samplers must fail, at this level.
ALPHA = 1e-4


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


@pytest.fixture(scope="module", params=sorted(make_models.EXACT))
def trained(request, all_images):
  """(name, config, {program: dist}, {label: exact probabilities of every
  image}); one view of the model per program (`with_program`), so that
  each program is traced and compiled once for both labels."""
  name = request.param
  dist, _ = make_models.load(name)
  config = make_models.EXACT[name]
  images = all_images(config["image_shape"], config["high"])
  probs = {}
  for label in LABELS:
    lp = dist.log_prob(images, conditional_input=float(label))
    probs[label] = np.exp(np.asarray(lp, np.float64))
  dists = {p: _execution.with_program(dist, p) for p in _execution.PROGRAMS}
  # Wrong: one Jacobi pass per row, from a guess of `low` everywhere, is
  # exact only where a pixel does not depend on the pixels left of it.
  dists["one_pass"] = _execution.with_program(
      dist, layouts.JacobiRows(max_passes=1)
  )
  return request.param, config, dists, probs


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
  return chi_square_pvalue(counts, len(samples) * probs / probs.sum())


def _assert_rejected(samples, probs, config, what):
  """A wrong sampler's draws must fail the test that the right ones pass."""
  p, stat, df = _gof(samples, probs, config)
  print(f"\n[{what}] p={p:.3g} (chi2={stat:.1f}, df={df})")
  assert p < ALPHA, (
      f"{what}: p={p:.3g}, chi2={stat:.1f}, df={df}: " "the test has no power"
  )


# Every program of the generator, on the CPU: "xla_accelerator" is the
# compiled core as a GPU gets it, forced here.
@pytest.mark.parametrize("program", _execution.PROGRAMS)
@pytest.mark.parametrize("label", LABELS)
def test_fast_sampler_matches_log_prob(trained, label, program):
  name, config, dists, probs = trained
  dist = dists[program]
  assert _execution.program(dist) == program
  start = time.time()
  # A different seed per program: independent tests, not one repeated.
  seed = 100 + label + 10 * _execution.PROGRAMS.index(program)
  samples = dist.sample(NUM_SAMPLES, seed=seed, conditional_input=float(label))
  elapsed = time.time() - start
  p, stat, df = _gof(samples, probs[label], config)
  print(
      f"\n[{name}] label {label}: fast sampler ({program}) p={p:.3g} "
      f"(chi2={stat:.1f}, df={df}, {elapsed:.1f}s)"
  )
  assert p > ALPHA, (
      f"{name} label {label}: fast sampler p={p:.3g}, "
      f"chi2={stat:.1f}, df={df}"
  )


@pytest.mark.parametrize("label", LABELS)
def test_tfp_sampler_is_rejected(trained, label):
  name, config, dists, probs = trained
  # TFP's own sampler on the same weights feeds back the unrounded draw.
  samples = tfd.PixelCNN._sample_n(
      dists["graph"],
      NUM_SAMPLES,
      seed=200 + label,
      conditional_input=float(label),
  )
  _assert_rejected(
      samples, probs[label], config, f"{name} label {label}: TFP sampler"
  )


@pytest.mark.parametrize("label", LABELS)
def test_jacobi_program_with_one_pass_per_row_is_rejected(trained, label):
  name, config, dists, probs = trained
  samples = dists["one_pass"].sample(
      NUM_WRONG, seed=600 + label, conditional_input=float(label)
  )
  _assert_rejected(
      samples,
      probs[label],
      config,
      f"{name} label {label}: one Jacobi pass per row",
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
      [rng.choice(m.size, NUM_WRONG, p=m / m.sum()) for m in marginals],
      axis=1,
  )  # [n, H*W]
  digits = (colour[..., None] // (high + 1) ** np.arange(c - 1, -1, -1)) % (
      high + 1
  )  # [n, H*W, C]
  samples = digits.reshape(NUM_WRONG, h, w, c)
  _assert_rejected(
      samples, probs[label], config, f"{name} label {label}: independent pixels"
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
  name, config, dists, probs = trained
  dist = dists["xla_cpu"]  # the program a CPU runs by default
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
      NUM_WRONG, seed=500 + num_observed, conditional_input=float(label)
  ).numpy()
  h, w, c = config["image_shape"]
  flat = fresh.reshape(NUM_WRONG, h * w, c)
  flat[:, :num_observed] = observed.reshape(h * w, c)[:num_observed]
  _assert_rejected(
      flat.reshape(fresh.shape),
      expected,
      config,
      f"{name} label {label}, {num_observed} observed: prefix pasted on draws",
  )
