"""Scale-invariant signal-to-distortion ratio (Le Roux et al. 2019), zero-mean signals."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

# Keeps a perfect (or orthogonal) estimate finite, about +-100 dB, and stays scale invariant.
_EPS_REL = 1e-10


def si_sdr(estimate: NDArray[np.float64], reference: NDArray[np.float64]) -> float | None:
    """SI-SDR in dB over the common length; None when either signal is silent (undefined).

    With both signals zero-mean, target = (<est, ref> / |ref|^2) ref and noise = est - target;
    SI-SDR = 10 log10(|target|^2 / |noise|^2).
    """
    n = min(len(estimate), len(reference))
    est = np.asarray(estimate[:n], dtype=np.float64)
    ref = np.asarray(reference[:n], dtype=np.float64)
    est = est - est.mean() if n else est
    ref = ref - ref.mean() if n else ref
    ref_energy = float(np.dot(ref, ref))
    est_energy = float(np.dot(est, est))
    if ref_energy <= 0.0 or est_energy <= 0.0:
        return None
    target = (float(np.dot(est, ref)) / ref_energy) * ref
    noise = est - target
    eps = _EPS_REL * est_energy
    return 10.0 * math.log10(
        (float(np.dot(target, target)) + eps) / (float(np.dot(noise, noise)) + eps)
    )
