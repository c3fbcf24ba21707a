#!/bin/sh
# Installs what building and checking the R package needs (Debian/Ubuntu),
# as CI does:
#   sh r/ci_setup.sh
# r-base-core and r-base-dev (R, R CMD build/check), r-cran-reticulate and
# r-cran-testthat. No-op when they are already there. Runs apt-get as root,
# or through `sudo -n` when not root. Fails loudly (exit 1) when it cannot
# install, so CI never skips the R package's check.
set -eu

have_r() {
  command -v R >/dev/null 2>&1 &&
    command -v Rscript >/dev/null 2>&1 &&
    Rscript -e 'ok <- all(vapply(c("reticulate", "testthat"), requireNamespace, TRUE, quietly = TRUE)); quit(status = if (ok) 0 else 1)' \
      >/dev/null 2>&1
}

versions() {
  echo "$(Rscript --version 2>&1 | head -n 1)," \
    "reticulate $(Rscript -e 'cat(format(packageVersion("reticulate")))')," \
    "testthat $(Rscript -e 'cat(format(packageVersion("testthat")))')"
}

if have_r; then
  echo "ci_setup.sh: R, reticulate and testthat already installed: $(versions)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ci_setup.sh: apt-get not found; install R, reticulate and testthat by hand" >&2
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

$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  r-base-core r-base-dev r-cran-reticulate r-cran-testthat

if ! have_r; then
  echo "ci_setup.sh: R installed but R, reticulate or testthat still not usable" >&2
  exit 1
fi
echo "ci_setup.sh: installed $(versions)"
