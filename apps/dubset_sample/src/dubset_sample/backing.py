"""The music-and-effects bed both dubs share: sectioned synth BGM plus irregular sound effects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dubset_sample import synth
from dubset_sample.bed.arrange import bed_key, compose_bed, compose_intro
from dubset_sample.bed.master import master
from dubset_sample.bed.mixdown import Effect, place_effects, render_notes

__all__ = ["Bed", "Effect", "render_bed", "render_intro"]

F32 = npt.NDArray[np.float32]
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class Bed:
    """A rendered backing track: mono float32 audio and the effects placed in it."""

    audio: npt.NDArray[np.float32]
    effects: tuple[Effect, ...]


def _samples(duration_ms: int, sample_rate: int) -> int:
    return max(0, round(duration_ms * sample_rate / 1000))


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64([seed & _MASK64, stream]))


def render_bed(duration_ms: int, sample_rate: int, seed: int) -> Bed:
    """The shared backing track: music with calm and busy sections, plus sound effects.

    The score and effect times depend only on `seed`, not on the sample rate or duration
    beyond where the bed ends; the result is at -20 dBFS RMS with peaks at most 0.99.
    """
    n = _samples(duration_ms, sample_rate)
    if n == 0:
        return Bed(np.zeros(0, np.float32), ())
    notes = compose_bed(n / sample_rate, _rng(seed, 1))
    out = render_notes(notes, n, sample_rate, synth.Synth(sample_rate, _rng(seed, 2)))
    # synth.effect is looked up per call, so a caller can swap the effect sounds (tests mute them).
    effects = place_effects(out, sample_rate, _rng(seed, 3), synth.effect)
    return Bed(master(out), effects)


def render_intro(duration_ms: int, sample_rate: int, seed: int) -> F32:
    """An opening theme (its own key, tempo and band) that fades out at its end; -20 dBFS."""
    n = _samples(duration_ms, sample_rate)
    if n == 0:
        return np.zeros(0, np.float32)
    bed_tonic, _ = bed_key(_rng(seed, 1))
    notes = compose_intro(n / sample_rate, _rng(seed, 4), bed_tonic)
    out = render_notes(notes, n, sample_rate, synth.Synth(sample_rate, _rng(seed, 5)))
    fade = min(n // 3, round(3.0 * sample_rate))
    if fade > 0:
        out[n - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32) ** 2
    return master(out)
