#!/usr/bin/env bash
# Idempotent machine setup: Debian packages (when root and missing), the venv, pinned packages.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
APT_PACKAGES=(ffmpeg prometheus)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install Debian packages: ${missing[*]} (sudo apt-get install ...)" >&2
    exit 1
  fi
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.dubset-setup"
inputs=$(cat requirements/lock.txt libs/*/pyproject.toml services/*/pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$inputs" ]]; then
  echo "setup: up to date"
  exit 0
fi
echo "setup: installing pinned packages into $VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r requirements/lock.txt
editable=()
for pkg in libs/dubset_protos libs/dubset_common services/*/ libs/dubset_cli; do
  editable+=(-e "$pkg")
done
"$VENV/bin/python" -m pip install -q --no-deps "${editable[@]}"
echo "$inputs" > "$stamp"
echo "setup: done"
