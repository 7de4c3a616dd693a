#!/usr/bin/env bash
# Install OpenToolLab with its test extra, fetch the pinned BFCL wheel once (PyPI only), run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -e '.[dev,report,tokenize,bfcl-langs]'
mkdir -p .cache/wheels
ls .cache/wheels/bfcl_eval-2026.3.23-py3-none-any.whl >/dev/null 2>&1 \
  || python -m pip download -q --no-deps --only-binary=:all: bfcl-eval==2026.3.23 -d .cache/wheels
python -m pytest "$@"
