"""How loud a soundtrack is: a silent one (a muted or wrong audio stream) has no dialogue."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

# A real soundtrack peaks far above this; digital silence and dither stay below.
SILENCE_DBFS = -60.0


def peak_dbfs(samples: npt.NDArray[np.int16], chunk: int = 1 << 20) -> float:
    """The loudest sample of 16-bit PCM in dB full scale (-inf for all zeros), read in chunks
    so a memory-mapped episode is never loaded whole."""
    peak = 0
    for begin in range(0, len(samples), chunk):
        block = np.abs(samples[begin : begin + chunk].astype(np.int32))
        peak = max(peak, int(block.max(initial=0)))
    return 20 * math.log10(peak / 32768) if peak else -math.inf
