"""FastPixelCNN from R through reticulate (issue 4).

Runs the R scripts in tests/r/ with ``Rscript`` against this interpreter
(RETICULATE_PYTHON=sys.executable). Skipped only when Rscript is not
installed; CI installs it with examples/r/ci_setup.sh (r-base-core and
r-cran-reticulate), so there these tests really run. A missing reticulate
package is a failure, not a skip.
"""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RSCRIPT = shutil.which("Rscript")

pytestmark = pytest.mark.skipif(
    RSCRIPT is None,
    reason="Rscript not installed (install R with examples/r/ci_setup.sh)")


def _run_r(script, timeout=240):
  env = dict(os.environ)
  env["RETICULATE_PYTHON"] = sys.executable
  # The package from this checkout, installed or not.
  env["PYTHONPATH"] = os.pathsep.join(
      p for p in [ROOT, env.get("PYTHONPATH", "")] if p)
  env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  env.setdefault("CUDA_VISIBLE_DEVICES", "")  # tiny models: CPU is enough
  proc = subprocess.run(
      [RSCRIPT, "--vanilla", os.path.join(ROOT, "tests", "r", script), ROOT],
      cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
      text=True, timeout=timeout, check=False)
  output = proc.stdout
  assert proc.returncode == 0, (
      f"Rscript tests/r/{script} exited with {proc.returncode}; "
      f"output:\n{output[-8000:]}")
  return output


def test_r_tfd_fast_pixel_cnn():
  """tfd_fast_pixel_cnn() from plain R doubles: sample, log_prob, checks."""
  out = _run_r("test_fastpixel.R")
  assert "R FastPixelCNN test: OK" in out, out[-8000:]


def test_r_plain_doubles_into_python_api():
  """R doubles straight into FastPixelCNN(...) and $sample(8, ...)."""
  out = _run_r("test_plain_doubles.R")
  assert "R plain-doubles test: OK" in out, out[-8000:]
