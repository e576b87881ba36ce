"""Bounded reads of WAV spans: only the frames of one span are ever in memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from dubset_tts.core.model import Audio, Speech, TtsInputError
from dubset_voices.dsp import resample

# Stems come out of decoders and resamplers: a clip may end a few ms past the stem's end;
# that tail is read as silence. More than this is an input error.
END_TOLERANCE_MS = 100


@dataclass(frozen=True)
class WavInfo:
    path: Path
    rate: int
    frames: int

    @property
    def duration_ms(self) -> int:
        return self.frames * 1000 // self.rate


def wav_info(path: Path, what: str) -> WavInfo:
    try:
        info = sf.info(str(path))
    except (RuntimeError, OSError, sf.LibsndfileError) as exc:
        raise TtsInputError(f"{what} {path.name!r} is not a readable WAV: {exc}") from exc
    if info.frames <= 0 or info.samplerate <= 0:
        raise TtsInputError(f"{what} {path.name!r} is empty (0 samples)")
    return WavInfo(path, int(info.samplerate), int(info.frames))


def read_span(wav: WavInfo, start_ms: int, end_ms: int, what: str) -> Speech:
    """Mono samples of [start_ms, end_ms) at the file's rate, zero-padded within tolerance."""
    if start_ms < 0 or end_ms <= start_ms:
        raise TtsInputError(f"{what}: bad span {start_ms}..{end_ms} ms")
    if end_ms > wav.duration_ms + END_TOLERANCE_MS:
        raise TtsInputError(
            f"{what}: span {start_ms}..{end_ms} ms is beyond the end of {wav.path.name!r} "
            f"({wav.duration_ms} ms); was the stem made from another video?"
        )
    first = start_ms * wav.rate // 1000
    count = (end_ms - start_ms) * wav.rate // 1000
    with sf.SoundFile(str(wav.path)) as f:
        f.seek(min(first, wav.frames))
        data = f.read(frames=count, dtype="float32", always_2d=True)
    mono = np.ascontiguousarray(data.mean(axis=1), dtype=np.float32)
    if len(mono) < count:
        mono = np.concatenate([mono, np.zeros(count - len(mono), np.float32)])
    return Speech(mono, wav.rate)


def to_rate(speech: Speech, rate: int) -> Audio:
    return resample(speech.samples, speech.rate, rate)


def exact(audio: Audio, n: int) -> Audio:
    """Trim or zero-pad to exactly n samples."""
    if len(audio) >= n:
        return np.ascontiguousarray(audio[:n], dtype=np.float32)
    return np.concatenate([audio.astype(np.float32), np.zeros(n - len(audio), np.float32)])
