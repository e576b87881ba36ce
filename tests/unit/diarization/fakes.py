"""Test doubles for the diarization ports: tone "voices" that a fake embedder tells apart."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from dubset_diarization.core.model import SAMPLE_RATE, FloatArray

VOICES = (220.0, 330.0, 495.0, 740.0)


class EnergyVad:
    """Speech where a frame's RMS exceeds a floor."""

    frame_samples = 512

    def __init__(self) -> None:
        self.calls = 0

    def reset(self) -> None:
        self.calls = 0

    def probabilities(self, frames: FloatArray) -> FloatArray:
        self.calls += 1
        rms = np.sqrt(np.mean(np.square(frames), axis=1))
        return (rms > 0.01).astype(np.float32)


class ToneEmbedder:
    """Energy per known voice frequency, normalised: one direction per tone voice."""

    def embed(self, windows: Sequence[FloatArray]) -> FloatArray:
        out = np.zeros((len(windows), len(VOICES) + 1), dtype=np.float32)
        for i, w in enumerate(windows):
            spec = np.abs(np.fft.rfft(w))
            freqs = np.fft.rfftfreq(len(w), 1 / SAMPLE_RATE)
            for j, f in enumerate(VOICES):
                out[i, j] = spec[np.abs(freqs - f) < 15].sum()
            out[i, -1] = 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class FakeModels:
    def __init__(self) -> None:
        self.vad = EnergyVad()
        self.embedder = ToneEmbedder()
        self.checksums = {"fake": "0" * 64}
        self.versions = {"fake": "1"}


def episode(script: Sequence[tuple[int, int, int]], total_ms: int, seed: int = 0) -> FloatArray:
    """Tones of voice v from start_ms to end_ms over faint noise."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(total_ms * 16) * 0.001).astype(np.float32)
    for start, end, v in script:
        t = np.arange((end - start) * 16) / SAMPLE_RATE
        x[start * 16 : end * 16] += 0.3 * np.sin(2 * np.pi * VOICES[v] * t).astype(np.float32)
    return x


def chunked(x: FloatArray, size: int) -> Iterator[FloatArray]:
    for i in range(0, len(x), size):
        yield x[i : i + size]


SCRIPT = [
    (1000, 4000, 0),
    (4600, 7000, 1),
    (8000, 9500, 0),
    (10000, 13000, 2),
    (13800, 16000, 1),
    (17000, 20000, 0),
    (21000, 23000, 2),
]
