#!/usr/bin/env bash
# Idempotent: the Spleeter backend's own venv (.venv-spleeter) from requirements/spleeter-lock.txt
# (requirements/spleeter.txt resolved by `tools/lock_gpu.py --spleeter`).
# Spleeter needs Python < 3.12, TensorFlow 2.12 and numpy < 2; the main venv has numpy 2.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${SPLEETER_PYTHON_BIN:-python3}"
VENV="${SPLEETER_VENV:-.venv-spleeter}"
SPLEETER_VERSION="2.4.2"

if ! "$PYTHON" -c 'import sys; sys.exit(0 if (3, 8) <= sys.version_info[:2] < (3, 12) else 1)'; then
  echo "setup_spleeter: $PYTHON must be Python 3.8-3.11 (Spleeter needs < 3.12)" >&2
  exit 1
fi
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup_spleeter: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.dubset-setup"
inputs=$( (cat requirements/spleeter-lock.txt; echo "spleeter==$SPLEETER_VERSION") | sha256sum | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$inputs" ]]; then
  echo "setup_spleeter: $VENV is up to date"
  exit 0
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r requirements/spleeter-lock.txt
"$VENV/bin/python" -m pip install -q --no-deps "spleeter==$SPLEETER_VERSION"
"$VENV/bin/python" -c 'import spleeter.separator, tensorflow, numpy; assert numpy.__version__ < "2"'
echo "$inputs" > "$stamp"
echo "setup_spleeter: $VENV ready"
