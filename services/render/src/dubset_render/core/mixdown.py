"""The English track, block by block: the speech over the bed.

The bed is the episode's music and effects. With a separation it is the original track less
the separated Japanese dialogue (at the original's full band and channels: the dialogue estimate
is mono and centred, so it is taken from every channel). Without one, it is honestly the
original mix ducked by duck_db wherever a Japanese line is spoken, with smooth ramps, and the
report says so. The speech gets one gain for the whole episode (its loudness matched to the
original dialogue's) and goes to every channel; the sum is true-peak limited by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Block = npt.NDArray[np.float32]  # samples x channels
RAMP_MS = 150


def duck_gain(
    start: int, n: int, rate: int, spans_ms: Sequence[tuple[int, int]], duck_db: float
) -> npt.NDArray[np.float32]:
    """The original's gain over samples [start, start + n): 1 outside the spans, 10^(duck/20)
    inside, with raised-cosine ramps of RAMP_MS that end at each span's edges."""
    low = 10 ** (duck_db / 20)
    depth = np.zeros(n, np.float64)
    ramp = rate * RAMP_MS // 1000
    t = np.arange(start, start + n)
    for a_ms, b_ms in spans_ms:
        a, b = a_ms * rate // 1000, b_ms * rate // 1000
        if b + ramp < start or a - ramp > start + n:
            continue
        inside = np.clip(np.minimum(t - (a - ramp), (b + ramp) - t) / max(1, ramp), 0.0, 1.0)
        depth = np.maximum(depth, 0.5 - 0.5 * np.cos(np.pi * inside))
    return np.asarray(1.0 - (1.0 - low) * depth, np.float32)


def bed_block(original: Block, dialogue: npt.NDArray[np.float32] | None) -> Block:
    """The original less the (mono) dialogue estimate in every channel."""
    if dialogue is None:
        return original
    return np.asarray(original - dialogue[:, None], np.float32)


def mix_block(bed: Block, speech: npt.NDArray[np.float32], gain: float) -> Block:
    """The bed plus the speech at gain in every channel (not yet limited)."""
    return np.asarray(bed + (gain * speech)[:, None], np.float32)
