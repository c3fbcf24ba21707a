#!/bin/sh
# Installs R and reticulate for tests/test_r.py (Debian/Ubuntu), as CI does:
#   sh examples/r/ci_setup.sh
# No-op when Rscript and the R package reticulate are already there.
# Runs apt-get as root, or through `sudo -n` when not root. Fails loudly
# (exit 1) when it cannot install, so CI never silently skips the R tests.
set -eu

have_r() {
  command -v Rscript >/dev/null 2>&1 &&
    Rscript -e 'quit(status = if (requireNamespace("reticulate", quietly = TRUE)) 0 else 1)' \
      >/dev/null 2>&1
}

if have_r; then
  echo "ci_setup.sh: R and reticulate already installed: $(Rscript --version 2>&1 | head -n 1)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ci_setup.sh: apt-get not found; install R and the R package reticulate by hand" >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "ci_setup.sh: not root and no password-less sudo; cannot apt-get install R" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  r-base-core r-cran-reticulate

if ! have_r; then
  echo "ci_setup.sh: R installed but Rscript/reticulate still not usable" >&2
  exit 1
fi
echo "ci_setup.sh: installed $(Rscript --version 2>&1 | head -n 1)," \
  "reticulate $(Rscript -e 'cat(format(packageVersion("reticulate")))')"
