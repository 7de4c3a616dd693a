#!/usr/bin/env bash
# Ecosystem tier: our training files loaded by the real trainers (TRL, LLaMA-Factory, ms-swift), after the main tier.
# Each trainer gets its own venv under .cache/ (they pin datasets/transformers versions that conflict with
# each other and with the main environment); torch is the CPU build that `pip install torch==2.13.0` takes
# from this machine's disk. A tiny random model and a tokenizer trained on our rows: no hub, no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."

venv() {  # NAME REQUIREMENT...: create .cache/eco-NAME once per requirement list
  local dir=".cache/eco-$1"; shift
  local want="torch==2.13.0 $* pytest"
  if [ "$(cat "$dir/.ready" 2>/dev/null)" != "$want" ]; then
    rm -rf "$dir"
    python -m venv "$dir"
    # shellcheck disable=SC2086
    "$dir/bin/pip" install -q $want
    # PyPI's torchvision/torchaudio are CUDA builds that fail to load beside the CPU torch file; text data never needs them
    "$dir/bin/pip" uninstall -y -q torchvision torchaudio >/dev/null 2>&1 || true
    echo "$want" > "$dir/.ready"
  fi
}

venv trl trl==1.16.0
venv lf llamafactory==0.9.5
venv swift ms-swift==4.6.0
export OPENTOOLLAB_PYTHON="$(command -v python)"   # our commands run in the main environment, as users run them
.cache/eco-trl/bin/python -m pytest tests_ecosystem/test_trl.py -p no:cacheprovider "$@"
.cache/eco-lf/bin/python -m pytest tests_ecosystem/test_llamafactory.py -p no:cacheprovider "$@"
.cache/eco-swift/bin/python -m pytest tests_ecosystem/test_swift.py -p no:cacheprovider "$@"
