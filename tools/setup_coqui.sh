#!/usr/bin/env bash
# Idempotent: torchaudio + torchcodec for coqui-tts (the YourTTS backend) on the CPU torch.
# Usage: tools/setup_coqui.sh VENV   (run after the lock install; tools/setup.sh does)
#
# Why this is not a plain lock line:
# - coqui-tts imports torchaudio (the speaker encoder's MelSpectrogram, Resample) and, with
#   torch >= 2.9, refuses to import unless the torchcodec distribution is installed.
# - The lock pins torch 2.13.0+cpu. PyPI's torchaudio 2.11.0 and torchcodec 0.17.0 wheels are
#   CUDA builds that declare torch==2.11 (pip would replace our torch) and whose extension
#   libraries do not load against this torch. So: install them with --no-deps, and delete
#   torchaudio's compiled extensions (torchaudio/lib/*.so). torchaudio's loader
#   (_extension.utils._load_lib) returns False when the library file is absent, and torchaudio
#   then runs as pure Python over torch ops: transforms.MelSpectrogram/Resample work, which is
#   all coqui inference uses. torchaudio.load/save (torchcodec-backed) do not work; coqui needs
#   them only to read training data, and dubset reads audio with soundfile.
# - torchcodec's own libraries also fail to load here, but coqui only checks that the
#   distribution is present and never imports it for inference, so it is left as installed.
set -euo pipefail

VENV="${1:?usage: tools/setup_coqui.sh VENV}"
PY="$VENV/bin/python"
TORCHAUDIO_VERSION="2.11.0"
TORCHCODEC_VERSION="0.17.0"

installed() {
  "$PY" -c 'import importlib.metadata as m, sys
try:
    print(m.version(sys.argv[1]))
except m.PackageNotFoundError:
    print("")' "$1"
}

for pin in "torchaudio==$TORCHAUDIO_VERSION" "torchcodec==$TORCHCODEC_VERSION"; do
  if [[ "$(installed "${pin%%==*}")" != "${pin##*==}" ]]; then
    "$PY" -m pip install -q --no-deps "$pin"
  fi
done

# Locate the package without importing it (the import fails while the CUDA libraries are there).
lib_dir=$("$PY" -c 'import importlib.util as u, os
print(os.path.join(u.find_spec("torchaudio").submodule_search_locations[0], "lib"))')
removed=$(find "$lib_dir" -maxdepth 1 -name '*.so' -print -delete | wc -l)

"$PY" -c 'import torch, torchaudio, TTS.tts.models.vits
mel = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=512, n_mels=16)
assert mel(torch.zeros(1, 1600)).shape[-2] == 16'
echo "setup_coqui: torchaudio $TORCHAUDIO_VERSION (pure Python, $removed extension libraries removed)" \
  "+ torchcodec $TORCHCODEC_VERSION ready for coqui-tts $(installed coqui-tts) in $VENV"
