#!/usr/bin/env bash
# Install R and the reference packages from Debian's archive, then regenerate every committed
# reference value in tests/reference/values/. Not run in CI: the values are committed, and a
# change to them is reviewed on its own (never in the same commit as the fix it should judge).
# Usage (as root, from the repository root):  bash tests/reference/make_reference_values.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v Rscript >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y r-base-core r-cran-psych r-cran-survival \
    r-cran-survey r-cran-lme4 r-cran-jsonlite r-cran-gparotation r-cran-mice r-cran-cmprsk \
    r-cran-multilevel r-cran-sandwich r-cran-lmtest
fi
for script in tests/reference/*_reference.R; do
  echo "== $script"
  Rscript "$script"
done
git status --short tests/reference/values
