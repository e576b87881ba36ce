"""Streamed decoding of an audio file to 16 kHz mono float32 (libsndfile + soxr)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr  # type: ignore[import-untyped]

from dubset_diarization.core.model import SAMPLE_RATE, DiarizationInputError, FloatArray

MAX_DURATION_S = 6 * 3600
BLOCK_S = 20


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def probe(path: Path) -> AudioInfo:
    """Format facts of a readable audio file, or a DiarizationInputError saying why not."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        why = str(exc).replace(str(path), path.name)
        raise DiarizationInputError(f"{path.name}: not a readable audio file ({why})") from None
    if info.samplerate < 4000 or info.channels < 1:
        raise DiarizationInputError(
            f"{path.name}: unusable audio ({info.samplerate} Hz, {info.channels} channels)"
        )
    if info.frames / info.samplerate > MAX_DURATION_S:
        raise DiarizationInputError(
            f"{path.name}: {info.frames / info.samplerate:.0f} s is longer than the limit of "
            f"{MAX_DURATION_S} s"
        )
    return AudioInfo(info.samplerate, info.channels, info.frames)


def chunks(path: Path, info: AudioInfo) -> Iterator[FloatArray]:
    """The file as 16 kHz mono float32 chunks (channels averaged); same chunks on every call."""
    resampler = (
        None
        if info.sample_rate == SAMPLE_RATE
        else soxr.ResampleStream(info.sample_rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
    )
    block = BLOCK_S * info.sample_rate
    try:
        with sf.SoundFile(str(path)) as f:
            while True:
                data = f.read(block, dtype="float32", always_2d=True)
                last = len(data) < block
                mono = np.ascontiguousarray(data.mean(axis=1), dtype=np.float32)
                if resampler is not None:
                    mono = resampler.resample_chunk(mono, last=last)
                if len(mono):
                    yield np.nan_to_num(mono, nan=0.0, posinf=0.0, neginf=0.0)
                if last:
                    return
    except (sf.LibsndfileError, RuntimeError) as exc:
        why = str(exc).replace(str(path), path.name)
        raise DiarizationInputError(f"{path.name}: audio cannot be decoded ({why})") from None
