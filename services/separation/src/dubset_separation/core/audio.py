"""Audio files read in bounded pieces: mono mixtures at any rate, 16-bit stems written back."""

from __future__ import annotations

import math
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf
from numpy.typing import NDArray
from scipy.signal import resample_poly

from dubset_separation.core.model import MAX_AUDIO_SECONDS, SeparationInputError

Signal = NDArray[np.float64]
SCALE = 32768.0
# Input samples read around a resampled span so the polyphase filter sees its whole support.
RESAMPLE_PAD = 4096


def to_pcm16(x: Signal) -> NDArray[np.int16]:
    return np.clip(np.round(x * SCALE), -32768, 32767).astype(np.int16)


def rms_dbfs(sum_sq: float, n: int) -> float:
    if n == 0 or sum_sq <= 0.0:
        return -120.0
    return max(-120.0, 10.0 * math.log10(sum_sq / n))


class AudioSource:
    """One language's track: the 16-bit mono downmix of a file, read by sample ranges.

    The mixture the stage splits is that downmix quantised to 16 bits, so the dialogue and
    backing it writes sum to it exactly.
    """

    def __init__(self, file: Path | BinaryIO, name: str) -> None:
        self.name = name
        try:
            self._sf = sf.SoundFile(file)
        except (RuntimeError, OSError, sf.LibsndfileError) as exc:
            raise SeparationInputError(f"{name}: cannot read audio: {exc}") from None
        self.rate = int(self._sf.samplerate)
        self.channels = int(self._sf.channels)
        self.frames = int(self._sf.frames)
        if self.frames <= 0:
            raise SeparationInputError(f"{name}: the audio is empty")
        if self.frames / self.rate > MAX_AUDIO_SECONDS:
            raise SeparationInputError(
                f"{name}: {self.frames / self.rate:.0f} s of audio is over the limit of "
                f"{MAX_AUDIO_SECONDS} s"
            )
        if self.rate < 8000:
            raise SeparationInputError(f"{name}: sample rate {self.rate} Hz is below 8000 Hz")

    def close(self) -> None:
        self._sf.close()

    def __enter__(self) -> AudioSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def pcm(self, start: int, stop: int) -> NDArray[np.int16]:
        """The 16-bit mono mixture for native samples [start, stop), zeros outside the file."""
        out = np.zeros(max(0, stop - start), dtype=np.int16)
        lo, hi = max(start, 0), min(stop, self.frames)
        if hi <= lo:
            return out
        self._sf.seek(lo)
        try:
            data = self._sf.read(hi - lo, dtype="float64", always_2d=True)
        except (RuntimeError, sf.LibsndfileError) as exc:
            raise SeparationInputError(f"{self.name}: cannot decode audio: {exc}") from None
        if len(data) < hi - lo:
            raise SeparationInputError(
                f"{self.name}: truncated: {lo + len(data)} of {self.frames} samples readable"
            )
        out[lo - start : hi - start] = to_pcm16(data.mean(axis=1))
        return out

    def read(self, start: int, stop: int, rate: int | None = None) -> Signal:
        """The mixture as floats for samples [start, stop) counted at rate (default: native)."""
        if rate is None or rate == self.rate:
            return self.pcm(start, stop).astype(np.float64) / SCALE
        g = math.gcd(rate, self.rate)
        up, down = rate // g, self.rate // g
        # Input index i maps to output index i * up / down; start the input on a multiple of
        # down so output indices stay integers.
        i0 = (math.floor(start * down / up) - RESAMPLE_PAD) // down * down
        i1 = math.ceil(stop * down / up) + RESAMPLE_PAD
        x = self.pcm(i0, i1).astype(np.float64) / SCALE
        y = np.asarray(resample_poly(x, up, down), dtype=np.float64)
        first = i0 * up // down
        return y[start - first : stop - first]

    def length_at(self, rate: int) -> int:
        return self.frames * rate // self.rate


class StemWriter:
    """A mono 16-bit WAV written block by block."""

    def __init__(self, path: Path, rate: int) -> None:
        self.path = path
        self._sf = sf.SoundFile(path, "w", samplerate=rate, channels=1, subtype="PCM_16")
        self.sum_sq = 0.0
        self.samples = 0

    def write(self, pcm: NDArray[np.int16]) -> None:
        self._sf.write(pcm)
        f = pcm.astype(np.float64) / SCALE
        self.sum_sq += float(np.dot(f, f))
        self.samples += len(pcm)

    def close(self) -> None:
        self._sf.close()

    def rms_dbfs(self) -> float:
        return rms_dbfs(self.sum_sq, self.samples)


def split_exact(
    mixture: NDArray[np.int16], backing: Signal
) -> tuple[NDArray[np.int16], NDArray[np.int16]]:
    """(dialogue, backing) in 16 bits with dialogue + backing == mixture exactly, both in range."""
    m = mixture.astype(np.int32)
    b = np.clip(np.round(backing * SCALE), -32768, 32767).astype(np.int32)
    d = np.clip(m - b, -32768, 32767)
    b = m - d
    return d.astype(np.int16), b.astype(np.int16)
