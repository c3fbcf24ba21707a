#!/bin/sh
# Builds the R package and runs `R CMD check --no-manual` on it, its tests
# included, against a Python that has tfp_fastpixel:
#   sh r/check.sh /path/to/venv/bin/python
# Fails on any ERROR or WARNING (NOTEs pass). Where no such Python is found
# the tests fail rather than skip (FASTPIXELCNN_REQUIRE_PYTHON=true).
# tfprobability is suggested but optional, hence _R_CHECK_FORCE_SUGGESTS_.
set -eu
python=${1:?usage: sh r/check.sh /path/to/python-with-tfp_fastpixel}
python=$(cd "$(dirname "$python")" && pwd)/$(basename "$python")
pkg=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
R CMD build --no-manual "$pkg"
status=0
RETICULATE_PYTHON=$python FASTPIXELCNN_REQUIRE_PYTHON=true \
  _R_CHECK_FORCE_SUGGESTS_=false CUDA_VISIBLE_DEVICES= \
  TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2} \
  R CMD check --no-manual fastpixelcnn_*.tar.gz || status=$?
log=fastpixelcnn.Rcheck/00check.log
if [ "$status" -ne 0 ] || grep -Eq '^Status:.*(ERROR|WARNING)' "$log"; then
  for f in fastpixelcnn.Rcheck/tests/testthat.Rout.fail fastpixelcnn.Rcheck/fastpixelcnn-Ex.Rout; do
    if [ -f "$f" ]; then echo "---- $f (tail)"; tail -n 80 "$f"; fi
  done
  echo "r/check.sh: R CMD check found an ERROR or WARNING (see above)" >&2
  exit 1
fi
# The tests' summary and time (R CMD BATCH ends its output with proc.time()).
grep -E '^\[ FAIL' fastpixelcnn.Rcheck/tests/testthat.Rout | tail -n 1
tail -n 3 fastpixelcnn.Rcheck/tests/testthat.Rout
grep -E '^Status:' "$log"
