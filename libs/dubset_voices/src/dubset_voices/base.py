"""What every engine shares: the error, the protocol, running a CLI synthesizer."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile as sf

from dubset_voices.dsp import Audio


class VoiceError(RuntimeError):
    """A TTS engine is missing or failed; the message says what to install."""


class Engine(Protocol):
    def synthesize(self, text: str, voice: str) -> tuple[Audio, int]: ...


def run_to_wav(
    argv: Callable[[Path], list[str]], stdin: bytes | None, what: str
) -> tuple[Audio, int]:
    with tempfile.TemporaryDirectory(prefix="dubset-tts-") as tmp:
        out = Path(tmp) / "out.wav"
        proc = subprocess.run(argv(out), input=stdin, capture_output=True, timeout=120, check=False)
        if proc.returncode != 0 or not out.exists():
            err = proc.stderr.decode(errors="replace").strip()[-300:]
            raise VoiceError(f"{what} failed (exit {proc.returncode}): {err}")
        audio, rate = sf.read(out, dtype="float32", always_2d=True)
        return np.ascontiguousarray(audio[:, 0]), int(rate)


def tool_version(binary: str, marker: str) -> str:
    """The version word after `marker` in `<binary> --version`, e.g. festival's "2.5.0"."""
    path = shutil.which(binary)
    if path is None:
        raise VoiceError(f"{binary} is not installed (apt-get install {binary})")
    proc = subprocess.run(
        [path, "--version"], check=False, capture_output=True, text=True, timeout=30
    )
    text = proc.stdout + proc.stderr
    _, found, rest = text.partition(marker)
    words = rest.replace(":", " ").split()
    if not found or not words:
        raise VoiceError(f"cannot read the version of {binary} from {text.strip()[:120]!r}")
    return words[0]
