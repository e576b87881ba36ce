"""Speech regions from per-frame speech probabilities (hysteresis, minimum durations)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dubset_common.speechmap import hysteresis_runs, join_gaps
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
    runs = hysteresis_runs(np.asarray(probs, dtype=np.float64), config.onset, config.offset)
    per_ms = SAMPLE_RATE // 1000
    regions = [(s * frame_samples, e * frame_samples) for s, e in runs]
    merged = join_gaps(regions, config.min_silence_ms * per_ms)
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
