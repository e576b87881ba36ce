"""Audio files as mono float64 signals at a requested rate."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

MAX_AUDIO_SECONDS = 4 * 3600  # the longest episode `dubset sample` makes


def read_mono(path: Path, rate: int) -> NDArray[np.float64]:
    """The file's samples, channels averaged, resampled (polyphase) to rate if it differs.

    Raises ValueError when the file cannot be read as audio or is longer than four hours.
    """
    try:
        info = sf.info(str(path))
        if info.duration > MAX_AUDIO_SECONDS:
            raise ValueError(
                f"{info.duration:.0f} s of audio is over the limit of {MAX_AUDIO_SECONDS} s"
            )
        data, file_rate = sf.read(str(path), dtype="float64", always_2d=True)
    except (RuntimeError, OSError) as exc:
        raise ValueError(f"cannot read audio: {exc}") from None
    mono: NDArray[np.float64] = np.asarray(data, dtype=np.float64).mean(axis=1)
    if file_rate != rate:
        # scipy.signal takes a second to import; only resampling needs it.
        from scipy.signal import resample_poly

        g = math.gcd(int(file_rate), rate)
        mono = np.asarray(resample_poly(mono, rate // g, int(file_rate) // g), dtype=np.float64)
    return mono
