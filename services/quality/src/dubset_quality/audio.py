"""Windows of the separation stems as 16 kHz mono float32 (libsndfile seeks, soxr resamples):
one clip's audio at a time, never a whole episode in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr  # type: ignore[import-untyped]

from dubset_quality.core.model import QualityInputError
from dubset_quality.core.signals import FloatArray

RATE = 16000


class Stem:
    """An open audio file read by [start, end) ms windows."""

    def __init__(self, path: Path, what: str) -> None:
        self.what = what
        try:
            self._file = sf.SoundFile(str(path))
        except (sf.LibsndfileError, RuntimeError, OSError) as exc:
            why = str(exc).replace(str(path), path.name)
            raise QualityInputError(f"{what}: not a readable audio file ({why})") from None
        if self._file.samplerate < 4000 or self._file.channels < 1:
            self._file.close()
            raise QualityInputError(f"{what}: unusable audio ({self._file.samplerate} Hz)")
        self.rate = int(self._file.samplerate)
        self.frames = int(self._file.frames)

    def window(self, start_ms: int, end_ms: int) -> FloatArray:
        """The samples of [start_ms, end_ms) clipped to the file, 16 kHz mono."""
        a = min(self.frames, start_ms * self.rate // 1000)
        b = min(self.frames, max(a, end_ms * self.rate // 1000))
        try:
            self._file.seek(a)
            data = self._file.read(b - a, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise QualityInputError(f"{self.what}: unreadable at {start_ms} ms ({exc})") from None
        mono = np.ascontiguousarray(data.mean(axis=1), dtype=np.float32)
        if self.rate == RATE or mono.size == 0:
            return mono
        return np.asarray(soxr.resample(mono, self.rate, RATE, quality="HQ"), dtype=np.float32)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Stem:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
