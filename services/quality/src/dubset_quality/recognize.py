"""The second recognition pass: the cut clips through the asr stage's own backend code
(faster-whisper by default), packed several to a window (core/packing.py); the words heard in
each clip are compared with the clip's text by the caller."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import soundfile as sf

from dubset_asr.backends import load_backend
from dubset_asr.core.model import AsrBackend, AsrInputError, DecodeOptions
from dubset_quality.audio import RATE
from dubset_quality.core.packing import HeardWord
from dubset_quality.core.signals import FloatArray

# Whole windows, no speech map (each clip is already one line's speech), greedy: a second
# opinion on the words, at a third of the beam search's cost.
OPTIONS = DecodeOptions(beam_size=1, vad=False)


class Recognizer(Protocol):
    name: str

    def words(self, samples: FloatArray, language: str) -> list[HeardWord] | None:
        """The words heard in 16 kHz audio, with their times (ms); None when the recogniser
        judged it not to be that language."""


class AsrRecognizer:
    """An asr backend loaded as the asr stage loads it (a requested one that cannot load
    raises; there is no fallback)."""

    def __init__(self, backend: str, model: str, workdir: Path) -> None:
        # No language vote: on a clip it costs more encoder passes than the words themselves,
        # and a clip in the wrong language already shows as no agreement.
        self._backend: AsrBackend = load_backend(backend, model, check_language=False)
        self.name = f"{self._backend.name}:{self._backend.model}"
        self._path = workdir / "reasr.wav"

    def words(self, samples: FloatArray, language: str) -> list[HeardWord] | None:
        sf.write(str(self._path), samples, RATE, subtype="PCM_16")
        try:
            transcript = self._backend.transcribe(self._path, language, OPTIONS, _quiet)
        except AsrInputError:  # the recogniser refuses the window: no agreement
            return None
        finally:
            self._path.unlink(missing_ok=True)
        out: list[HeardWord] = []
        for seg in transcript.segments:
            if seg.words:
                out += [HeardWord(w.start_ms, w.end_ms, w.text) for w in seg.words]
            elif seg.text.strip():
                out.append(HeardWord(seg.start_ms, seg.end_ms, seg.text.strip()))
        return out


def _quiet(fraction: float, message: str) -> None:
    del fraction, message
