"""Mastering the bed: -20 dBFS RMS with a soft limiter keeping peaks at most 0.99."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from dubset_sample.bed.dsp import F32

_TARGET_RMS = 10.0 ** (-20.0 / 20.0)
_KNEE, _CEILING = 0.8, 0.99
_CHUNK = 1 << 20


def _limit(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    room = _CEILING - _KNEE
    over = np.abs(v) > _KNEE
    soft = np.sign(v) * (_KNEE + room * np.tanh((np.abs(v) - _KNEE) / room))
    return np.where(over, soft, v)


def _energy(x: npt.NDArray[np.floating[Any]]) -> float:
    # numpy's own pairwise sum, not BLAS: BLAS splits sums by thread count, so the last bits
    # (and the bed) would depend on the machine.
    return sum(
        float(np.sum(np.square(x[i : i + _CHUNK], dtype=np.float64)))
        for i in range(0, len(x), _CHUNK)
    )


def master(x: F32) -> F32:
    """Scale to -20 dBFS RMS, softly limiting peaks above the knee so none passes 0.99."""
    n = len(x)
    total = _energy(x)
    if total == 0.0:
        return x
    gain = _TARGET_RMS / np.sqrt(total / n)
    # The limiter only touches the few samples above the knee, so the gain that restores the
    # target RMS after limiting is found on those alone.
    reach = 2.0 * gain
    idx = np.concatenate(  # chunked, so a 30-minute bed needs no full-size temporaries
        [np.flatnonzero(np.abs(x[i : i + _CHUNK]) > _KNEE / reach) + i for i in range(0, n, _CHUNK)]
    )
    peaks = x[idx].astype(np.float64)
    rest = total - _energy(peaks)
    for _ in range(30):
        limited = _limit(gain * peaks)
        rms = np.sqrt((rest * gain**2 + _energy(limited)) / n)
        if abs(rms / _TARGET_RMS - 1.0) < 1e-6 or gain * 1.01 > reach:
            break
        gain *= _TARGET_RMS / rms
    x *= np.float32(gain)
    x[idx] = _limit(gain * peaks)
    if gain > reach:  # pathological crest factor: samples outside idx may pass the knee too
        x[:] = _limit(x.astype(np.float64))
    return x
