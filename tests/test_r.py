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

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        RSCRIPT is None,
        reason="Rscript not installed (install R with examples/r/ci_setup.sh)",
    ),
]


@pytest.fixture(scope="module")
def r_run():
  """Runs all tests/r/test_*.R once, in one R session (TF loads once)."""
  env = dict(os.environ)
  env["RETICULATE_PYTHON"] = sys.executable
  env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  env.setdefault("CUDA_VISIBLE_DEVICES", "")  # tiny models: CPU is enough
  try:
    proc = subprocess.run(
        [
            RSCRIPT,
            "--vanilla",
            os.path.join(ROOT, "tests", "r", "run_all.R"),
            ROOT,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )
  except subprocess.TimeoutExpired as e:
    out = e.stdout or ""
    if isinstance(out, bytes):
      out = out.decode("utf-8", "replace")
    return "timeout after 300 s", out
  return proc.returncode, proc.stdout


def _check(r_run, name):
  rc, out = r_run
  assert f"==== R TEST {name}: OK" in out, (
      f"tests/r/{name}.R failed (Rscript exit code {rc}); "
      f"output:\n{out[-8000:]}"
  )


def test_r_tfd_fast_pixel_cnn(r_run):
  """tfd_fast_pixel_cnn() from plain R doubles: train on log_prob with
  tf_keras, sample with conditional_input, score, check (test_fastpixel.R)."""
  _check(r_run, "test_fastpixel")


def test_r_plain_doubles_into_python_api(r_run):
  """R doubles straight into FastPixelCNN(...) and $sample(8, ...), and
  non-integral ones rejected (test_plain_doubles.R)."""
  _check(r_run, "test_plain_doubles")


def test_r_exit_code(r_run):
  """The Rscript run as a whole exits 0."""
  rc, out = r_run
  assert (
      rc == 0
  ), f"Rscript tests/r/run_all.R exited with {rc}; output:\n{out[-8000:]}"
