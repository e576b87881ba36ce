"""Small generated episode pairs: a shared repeating bed plus different 'dialogue' per language."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

RATE = 16000


def bed(seconds: float, rate: int = RATE, seed: int = 0) -> NDArray[np.float64]:
    """A beat-like bed: a one-second pattern of tones and noise hits, varied a little per bar."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(rate) / rate
    pattern = 0.3 * np.sin(2 * np.pi * 110 * t) + 0.2 * np.sin(2 * np.pi * 330 * t)
    hit = rng.standard_normal(rate // 10) * np.exp(-np.arange(rate // 10) / 200)
    pattern[: rate // 10] += 0.5 * hit
    pattern[rate // 2 : rate // 2 + rate // 10] += 0.3 * hit
    bars = int(np.ceil(n / rate))
    out = np.concatenate([pattern * (1 + 0.1 * rng.standard_normal()) for _ in range(bars)])
    return 0.1 * out[:n]


def dialogue(seconds: float, rate: int = RATE, seed: int = 1) -> NDArray[np.float64]:
    """Harmonic 'voiced' bursts with gliding pitch at random times (about half the time)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    out = np.zeros(n)
    pos = int(rng.uniform(0.2, 0.8) * rate)
    while pos < n:
        length = int(rng.uniform(0.4, 1.2) * rate)
        t = np.arange(length) / rate
        f0 = rng.uniform(120, 260) * (1 + 0.2 * np.sin(2 * np.pi * rng.uniform(1, 4) * t))
        phase = 2 * np.pi * np.cumsum(f0) / rate
        burst = sum(np.sin(k * phase) / k for k in range(1, 12)) * np.hanning(length)
        end = min(n, pos + length)
        out[pos:end] += 0.1 * burst[: end - pos]
        pos = end + int(rng.uniform(0.3, 1.0) * rate)
    return out


def write(path: Path, x: NDArray[np.float64], rate: int = RATE) -> Path:
    sf.write(path, x, rate, subtype="PCM_16")
    return path


def pair(
    tmp: Path, seconds: float = 12.0, offset_ms: int = 0, seed: int = 0
) -> dict[str, NDArray[np.float64]]:
    """ja/en mixtures (JA time = EN time + offset; JA has an intro of offset ms) and stems."""
    off = int(offset_ms * RATE / 1000)
    b = bed(seconds, seed=seed)
    intro = 0.05 * np.sin(2 * np.pi * 440 * np.arange(off) / RATE)
    ja_b = np.concatenate([intro, b])
    en_b = b
    ja_d = dialogue(len(ja_b) / RATE, seed=seed + 1)
    en_d = dialogue(len(en_b) / RATE, seed=seed + 2)
    stems = {"ja_backing": ja_b, "en_backing": en_b, "ja_dialogue": ja_d, "en_dialogue": en_d}
    write(tmp / "ja.wav", ja_b + ja_d)
    write(tmp / "en.wav", en_b + en_d)
    return stems


def si_sdr(estimate: NDArray[np.float64], reference: NDArray[np.float64]) -> float:
    n = min(len(estimate), len(reference))
    e, r = estimate[:n], reference[:n]
    target = np.dot(e, r) / np.dot(r, r) * r
    return float(10 * np.log10(np.dot(target, target) / np.dot(e - target, e - target)))


def read(path: Path) -> NDArray[np.float64]:
    data, _ = sf.read(path, dtype="float64")
    return np.asarray(data)
