"""The cached generator computes exactly what one full network pass computes.

Teacher forcing: the mixture parameters the generator used at every pixel
must equal those of `dist.network` run once on the finished samples. Any
cache that holds a stale or misaligned value shows up here. Each model runs
on the generator's programs (`_execution.PROGRAMS`); on the recorded models
(tests/data/make_models.py) each program must also draw the very images it
drew when they were recorded.
"""

import functools

import make_models
import numpy as np
import pytest
import tensorflow as tf

from tfp_fastpixel import _execution
from tfp_fastpixel import layouts
from tfp_fastpixel import mixture
from tfp_fastpixel import op_counts

# The quick loop (-m "not slow") runs two small models on the graph program.
QUICK = ("k1_gray", "k2_cond_scalar_elu")

# Each model is built once per test process (a build takes seconds), and
# every program runs on it through `with_program`, which shares its
# weights.
forcing_model = functools.cache(make_models.forcing_model)

CASES = [
    pytest.param(
        name,
        program,
        marks=() if name in QUICK and program == "graph" else pytest.mark.slow,
        id=f"{name}-{program}",
    )
    for name in sorted(make_models.FORCING)
    for program in make_models.programs_of(name)
]


def _forcing_error(dist, cond):
  """Teacher forcing's worst error, and the samples it checked."""
  samples, params = _execution.sample_with_params(
      dist, make_models.FORCING_BATCH, make_models.FORCING_SEED, cond
  )
  x = mixture.to_network_scale(samples, dist._low, dist._high)
  reference = dist.network(x if cond is None else [x, cond], training=False)
  assert len(params) == len(reference)
  worst = max(
      float(tf.reduce_max(tf.abs(p - r))) for p, r in zip(params, reference)
  )
  return worst, samples


@pytest.mark.parametrize("name,program", CASES)
def test_generator_params_match_one_network_pass(name, program):
  dist = _execution.with_program(forcing_model(name), program)
  assert _execution.program(dist) == program
  cond = make_models.forcing_input(dist)
  worst, samples = _forcing_error(dist, cond)
  print(f"{name} ({program}): max |generator - network| = {worst:.2e}")
  # float64 agrees to float32 precision only: TFP's WeightNorm wrapper is
  # built without a dtype, so it rounds each layer's input to float32.
  assert worst <= 1e-4, f"{name}: teacher forcing error {worst}"
  # Samples are integers in range (the parameters above depend on them).
  values = samples.numpy()
  assert np.all(values == np.round(values))
  config = make_models.forcing_config(name)
  assert values.min() >= config.get("low", 0)
  assert values.max() <= config.get("high", 255)
  if name in make_models.RECORDED:
    # The Jacobi program solves for the images the sequential programs
    # draw with the same noise, so it must draw their recorded images.
    recorded = make_models.recorded("forcing_" + name)
    np.testing.assert_array_equal(
        values, recorded.get(program, recorded["graph"])
    )


def test_recorded_programs_draw_the_same_images():
  # The pixel-by-pixel programs differ in layout, not in arithmetic: on the
  # recorded models they drew the very same images (float rounding could
  # tip a rare pixel between them; on these models it tipped none).
  for name in make_models.RECORDED:
    recorded = make_models.recorded("forcing_" + name)
    programs = make_models.programs_of(name)
    assert sorted(recorded) == sorted(
        p for p in programs if p in make_models.SEQUENTIAL
    )
    for program in recorded:
      np.testing.assert_array_equal(recorded[program], recorded["graph"])


@pytest.mark.slow
def test_jacobi_rows_stop_at_the_fixed_point_and_not_before():
  # Each row stops at the first pass that changes nothing, within W passes;
  # a cap below what a row needs draws from the wrong conditionals.
  dist = forcing_model("k2_rf_4x3")
  _execution.prepare(dist, make_models.FORCING_BATCH)  # shared by the views
  width = dist.image_shape[1]
  jacobi = _execution.with_program(dist, "xla_jacobi")
  _, passes = _execution.passes_per_row(
      jacobi, make_models.FORCING_BATCH, make_models.FORCING_SEED
  )
  print(f"passes per row: {passes.numpy()} (W = {width})")
  assert passes.numpy().min() >= 1 and passes.numpy().max() <= width
  assert passes.numpy().min() < width  # some row stopped early
  capped = _execution.with_program(dist, layouts.JacobiRows(max_passes=2))
  worst, _ = _forcing_error(capped, None)
  assert worst > 1e-2, worst


def _core_work_per_pixel(dist, cond):
  """Working instructions per pixel in the compiled core's CPU program."""
  core, args = _execution.core_program(
      dist, make_models.FORCING_BATCH, [1, 2], cond
  )
  hlo = core.experimental_get_compiler_ir(*args)(stage="optimized_hlo")
  h, w, _ = dist.image_shape.as_list()
  return op_counts.xla_ops_per_pixel(hlo, h, w)[1]


@pytest.mark.slow
def test_accelerator_program_moves_less_state_per_pixel():
  # The accelerator program carries each level's pixel caches as one tensor:
  # fewer instructions per pixel (the copies of loop and conditional state).
  dist = forcing_model("k2_cond_scalar_elu")
  cond = make_models.forcing_input(dist)
  work = {
      p: _core_work_per_pixel(_execution.with_program(dist, p), cond)
      for p in ("xla_cpu", "xla_accelerator")
  }
  print(f"working instructions per pixel: {work}")
  assert work["xla_accelerator"] < work["xla_cpu"]
