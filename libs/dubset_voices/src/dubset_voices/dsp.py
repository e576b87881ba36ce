"""Signal helpers shared by the engines' users: resample, voice shift, time stretch, trim."""

from __future__ import annotations

from math import gcd

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

Audio = npt.NDArray[np.float32]

# Praat's pitch-synchronous resynthesis draws random numbers: every call seeds it with this.
PRAAT_SEED = 20261121
MIN_PITCH_HZ = 75
MAX_PITCH_HZ = 600


def resample(audio: Audio, rate: int, target: int) -> Audio:
    if rate == target or audio.size == 0:
        return audio.astype(np.float32)
    g = gcd(rate, target)
    return np.asarray(resample_poly(audio, target // g, rate // g), np.float32)


def _praat_sound(audio: Audio, rate: int) -> object:
    import parselmouth
    from parselmouth.praat import run

    run(f"random_initializeWithSeedUnsafelyButPredictably ({PRAAT_SEED})")
    return parselmouth.Sound(audio.astype(np.float64), sampling_frequency=rate)


def shift_voice(audio: Audio, rate: int, pitch_hz: float, formant: float) -> Audio:
    """Praat's "Change gender": new median pitch and formant ratio, duration kept."""
    if audio.size == 0:
        return audio
    from parselmouth.praat import call

    sound = _praat_sound(audio, rate)
    changed = call(sound, "Change gender", MIN_PITCH_HZ, MAX_PITCH_HZ, formant, pitch_hz, 1.0, 1.0)
    return np.asarray(changed.values[0], np.float32)


def stretch(audio: Audio, rate: int, factor: float) -> Audio:
    """Praat's "Lengthen (overlap-add)" (PSOLA): duration x factor, pitch kept.

    Praat accepts factors in 0.1..10; the result is within a pitch period of the exact length.
    """
    if audio.size == 0 or factor == 1.0:
        return audio.astype(np.float32)
    if not 0.1 <= factor <= 10.0:
        raise ValueError(f"stretch factor {factor} outside Praat's 0.1..10")
    from parselmouth.praat import call

    sound = _praat_sound(audio, rate)
    longer = call(sound, "Lengthen (overlap-add)", MIN_PITCH_HZ, MAX_PITCH_HZ, factor)
    return np.asarray(longer.values[0], np.float32)


def median_pitch_hz(audio: Audio, rate: int) -> float | None:
    """Median F0 of the voiced frames (Praat autocorrelation); None when nothing is voiced."""
    if audio.size < rate // 10:
        return None
    from parselmouth.praat import call

    sound = _praat_sound(audio, rate)
    pitch = call(sound, "To Pitch", 0.0, MIN_PITCH_HZ, MAX_PITCH_HZ)
    f0 = float(call(pitch, "Get quantile", 0.0, 0.0, 0.5, "Hertz"))
    return None if np.isnan(f0) else f0


def trim_silence(audio: Audio, rate: int, threshold: float = 0.01) -> Audio:
    """Cut leading/trailing near-silence so line timings are where speech is."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return audio[:0]
    pad = int(0.02 * rate)
    return audio[max(0, loud[0] - pad) : loud[-1] + pad]
