"""The bed's arrangement: a score of sections for the bed, and the opening theme's score."""

from __future__ import annotations

import numpy as np

from dubset_sample.bed import parts
from dubset_sample.bed.score import KINDS, PROGRESSIONS, Note, Section


def _fill_section(s: Section, kind: str, bars: int, last_fill: bool) -> None:
    rng = s.rng

    def pick(*names: str) -> str:
        return names[int(rng.integers(len(names)))]

    def every(*beats: float) -> float:
        return beats[int(rng.integers(len(beats)))]

    if kind == "ambient":
        parts.ambient(s, bars)
        return
    if kind == "calm":
        parts.pad(s, pick("pad", "strings"), 0.7, bars)
        parts.arp(s, pick("epiano", "marimba", "pluck", "bell"), 0.7, bars, every(1.0, 0.5))
        if rng.random() < 0.6:
            parts.melody(s, pick("flute", "epiano", "strings"), 0.8, bars, echo=False)
        if rng.random() < 0.5:
            parts.bass(s, 0.5, bars, 3)
        return
    line = int(rng.integers(len(parts.BASSLINES)))
    parts.pad(s, pick("pad", "strings", "organ"), 0.8, bars)
    parts.bass(s, 0.9, bars, line)
    if kind == "build":
        for bar in range(bars):
            ramp = 0.4 + 0.6 * bar / max(1, bars - 1)
            for i in range(16 if bar >= bars // 2 else 8):
                s.play("hat", bar * 4 + i * (0.25 if bar >= bars // 2 else 0.5), 0, 0.25, ramp)
            rolls = 4 if bar < bars - 2 else 16
            for i in range(rolls if bar >= bars // 2 else 0):
                s.play("snare", bar * 4 + i * 4 / rolls, 0, 0.25, 0.5 * ramp)
        parts.arp(s, pick("pluck", "chip"), 0.6, bars, 0.25)
        return
    parts.drums(s, 0.9, bars, 1.0 if kind == "full" else 0.6, last_fill)
    parts.arp(s, pick("pluck", "epiano", "marimba", "chip"), 0.6, bars, every(0.5, 0.25))
    if kind == "full":
        parts.melody(
            s, pick("lead", "chip", "flute", "strings"), 1.0, bars, echo=rng.random() < 0.6
        )
    elif rng.random() < 0.5:
        parts.melody(s, "bell", 0.7, bars, echo=False)


def _next_kind(rng: np.random.Generator, history: list[str]) -> str:
    if not history:
        return str(rng.choice(["ambient", "calm", "groove", "full"], p=[0.25, 0.35, 0.2, 0.2]))
    loud = 0
    for kind in reversed(history):
        if KINDS[kind] < 0.5:
            break
        loud += 1
    if history[-1] == "build":
        return "full"
    if loud >= 2 and rng.random() < 0.75:
        return str(rng.choice(["calm", "ambient", "rest"], p=[0.55, 0.35, 0.1]))
    options = [k for k in ("full", "groove", "build", "calm", "ambient") if k != history[-1]]
    weights = np.array([{"full": 3, "groove": 3, "build": 1}.get(k, 1.5) for k in options])
    return str(rng.choice(options, p=weights / weights.sum()))


def _bars(kind: str, rng: np.random.Generator) -> int:
    if kind == "rest":
        return 2  # the music stops for a beat of drama
    if kind in ("ambient", "build"):
        return 8
    return int(rng.choice([8, 12] if kind == "calm" else [8, 12, 16]))


def compose_bed(seconds: float, rng: np.random.Generator) -> list[Note]:
    """The bed's score: sections of changing kind, tempo and key until `seconds` are covered."""
    tonic, minor = bed_key(rng)
    base = rng.uniform(78.0, 126.0)
    history: list[str] = []
    notes: list[Note] = []
    t, shift, bpm = 0.0, 0, base
    while t < seconds:
        kind = _next_kind(rng, history)
        history.append(kind)
        quiet = KINDS[kind] < 0.5
        meter = 3 if quiet and rng.random() < 0.3 else 4
        bars = _bars(kind, rng)
        if rng.random() < 0.12:
            shift = int(np.clip(shift + rng.choice([-2, 1, 2, 5]), -5, 5))  # key change
        target = base * rng.uniform(0.93, 1.07) * (0.88 if quiet else 1.0)
        prog = PROGRESSIONS[minor][int(rng.integers(6))]
        span = 2 if quiet and rng.random() < 0.5 else 1
        chords = [d for d in prog for _ in range(span)]
        s = Section(
            rng, t, bars * meter, (bpm, target), meter, tonic + shift, minor, chords, KINDS[kind]
        )
        bpm = target
        if kind != "rest":
            _fill_section(s, kind, bars, last_fill=rng.random() < 0.7)
        notes += s.notes
        t = s.end
    return notes


def bed_key(rng: np.random.Generator) -> tuple[int, bool]:
    """Tonic (MIDI, octave 3) and mode: the first draws of the bed's score stream."""
    return 48 + int(rng.integers(0, 12)), bool(rng.random() < 0.45)


def compose_intro(seconds: float, rng: np.random.Generator, bed_tonic: int) -> list[Note]:
    """The opening theme's score: a title sting, then verses and choruses."""
    # An opening theme: faster, always major, a rock band with brass instead of the bed's synths,
    # in a key a step, third, fourth or fifth away from the bed's.
    tonic = 52 + (bed_tonic + int(rng.choice([2, 3, 5, 7, 9])) - 52) % 12
    bpm = rng.uniform(148.0, 176.0)
    # Title sting: the band hits one chord together and lets it ring for two bars.
    sting = Section(rng, 0.0, 8, (bpm, bpm), 4, tonic, False, [0], 1.0)
    for midi in (sting.pitch(0), sting.pitch(2), sting.pitch(4), sting.pitch(0, 1)):
        sting.play("brass", 0.0, midi, 6.0, 1.0)
    for drum in ("crash", "kick", "toml"):
        sting.play(drum, 0.0, 0, 1.0, 1.0)
    notes = sting.notes
    t, part = sting.end, 0
    while t < seconds:
        prog = PROGRESSIONS[False][int(rng.integers(6))]
        s = Section(rng, t, 32, (bpm, bpm), 4, tonic, False, list(prog), 1.0)
        parts.bass(s, 1.0, 8, 2)
        parts.drums(s, 1.0, 8, 1.0, fill=True)
        for bar in range(8):
            root = s.pitch(s.chord(bar)[0], -1)
            for i in range(8):
                s.play("gtr", bar * 4 + i / 2, root, 0.45, 0.9 if i % 2 == 0 else 0.7)
        if part % 2 == 1:  # chorus
            parts.pad(s, "strings", 0.9, 8)
            parts.melody(s, "brass", 1.1, 8, echo=False)
        else:  # verse
            parts.melody(s, "organ", 0.8, 8, echo=False)
        notes += s.notes
        t, part = s.end, part + 1
    return notes
