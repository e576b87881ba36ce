"""Mixing the bed: the score's notes at their instrument levels, then sound effects on top."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dubset_sample.bed.dsp import F32, add
from dubset_sample.bed.score import Note
from dubset_sample.bed.synthesizer import Synth

MIX = {  # instrument levels before the final normalisation
    "kick": 0.9,
    "snare": 1.0,
    "clap": 0.7,
    "hat": 0.25,
    "ohat": 0.18,
    "crash": 0.3,
    "tomh": 0.5,
    "toml": 0.55,
    "bass": 0.2,
    "pad": 0.25,
    "strings": 0.25,
    "drone": 0.3,
    "organ": 0.25,
    "pluck": 0.4,
    "epiano": 0.4,
    "marimba": 0.5,
    "bell": 0.3,
    "lead": 0.22,
    "chip": 0.25,
    "flute": 0.3,
    "brass": 0.16,
    "gtr": 0.14,
}
# Effect kind: (weight, shortest and longest seconds, level in dB against the music).
EFFECT_PLAN = {
    "whoosh": (3.0, 0.5, 1.4, -6.0),
    "impact": (2.0, 1.5, 3.0, -6.0),
    "footsteps": (2.0, 2.0, 6.0, -4.0),
    "knock": (1.5, 0.8, 1.6, -4.0),
    "chime": (1.5, 2.5, 5.0, -8.0),
    "rain": (1.0, 8.0, 22.0, -14.0),
    "wind": (1.0, 6.0, 18.0, -12.0),
    "crowd": (1.0, 6.0, 16.0, -12.0),
}
# Renders one effect: (kind, seconds, sample rate, rng) -> unit-RMS audio.
EffectSound = Callable[[str, float, int, np.random.Generator], F32]


@dataclass(frozen=True)
class Effect:
    """One sound effect in the bed and the span it sounds in."""

    kind: str
    start_ms: int
    end_ms: int


def render_notes(notes: list[Note], n: int, sr: int, voice: Synth) -> F32:
    """n samples of the notes played by `voice`, each at its instrument's mix level."""
    out = np.zeros(n, np.float32)
    for note in notes:
        start = round(note.time * sr)
        if start < n:
            buf = voice.note(note.instrument, note.midi, max(1, round(note.length * sr)))
            add(out, start, buf, note.velocity * MIX[note.instrument])
    return out


def place_effects(
    out: F32, sr: int, rng: np.random.Generator, sound: EffectSound
) -> tuple[Effect, ...]:
    """Mix effects made by `sound` into `out` every 5-15 s; the effects and where they sound."""
    # Levels are set against the music's loud passages (90th percentile of half-second RMS),
    # measured on a decimated copy because only the level matters.
    n = len(out)
    step = max(1, sr // 4000)
    sub = out[::step].astype(np.float64)
    hop = max(1, round(sr / step / 2))
    frames = np.sqrt(np.mean(np.square(sub[: len(sub) - len(sub) % hop].reshape(-1, hop)), 1))
    ref = float(np.percentile(frames, 90)) if len(frames) else 0.0
    ref = ref if ref > 0 else 0.1
    kinds = list(EFFECT_PLAN)
    weights = np.array([EFFECT_PLAN[k][0] for k in kinds])
    effects: list[Effect] = []
    duration = n / sr
    t = rng.uniform(1.0, 8.0)
    while t < duration:
        kind = str(rng.choice(kinds, p=weights / weights.sum()))
        _, shortest, longest, db = EFFECT_PLAN[kind]
        seconds = min(rng.uniform(shortest, longest), duration - t)
        start = round(t * sr)
        buf = sound(kind, seconds, sr, rng)
        add(out, start, buf, ref * 10.0 ** (db / 20.0))
        # Spans from the plan, not from sample counts, so every sample rate lists the same ones.
        start_ms = round(t * 1000.0)
        end_ms = min(round((t + seconds) * 1000.0), round(duration * 1000.0))
        if end_ms > start_ms:
            effects.append(Effect(kind, start_ms, end_ms))
        t += rng.uniform(5.0, 15.0)
    return tuple(effects)
