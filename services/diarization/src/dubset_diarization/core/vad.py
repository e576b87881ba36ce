"""Speech regions from per-frame speech probabilities (hysteresis, minimum durations)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dubset_diarization.core.model import SAMPLE_RATE, FloatArray


@dataclass(frozen=True)
class VadConfig:
    onset: float = 0.5
    offset: float = 0.35
    min_speech_ms: int = 250
    min_silence_ms: int = 500
    pad_ms: int = 30


def speech_regions(
    probs: FloatArray, frame_samples: int, total_samples: int, config: VadConfig = VadConfig()
) -> list[tuple[int, int]]:
    """[start, end) sample ranges of speech: enter above onset, leave below offset."""
    regions: list[tuple[int, int]] = []
    start: int | None = None
    for i, p in enumerate(np.asarray(probs, dtype=np.float64)):
        if start is None and p >= config.onset:
            start = i
        elif start is not None and p < config.offset:
            regions.append((start * frame_samples, i * frame_samples))
            start = None
    if start is not None:
        regions.append((start * frame_samples, len(probs) * frame_samples))
    per_ms = SAMPLE_RATE // 1000
    min_gap = config.min_silence_ms * per_ms
    merged: list[tuple[int, int]] = []
    for s, e in regions:
        if merged and s - merged[-1][1] < min_gap:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    pad = config.pad_ms * per_ms
    min_len = config.min_speech_ms * per_ms
    out: list[tuple[int, int]] = []
    for ms, me in merged:
        if me - ms < min_len:
            continue
        s, e = max(0, ms - pad), min(total_samples, me + pad)
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], e)
        elif e > s:
            out.append((s, e))
    return out
