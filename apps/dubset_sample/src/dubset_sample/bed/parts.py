"""The parts a section's players play: pads, bass lines, arpeggios, drum patterns, melodies."""

from __future__ import annotations

import numpy as np

from dubset_sample.bed.score import Section

_KICKS = ((0, 8), (0, 6, 8), (0, 4, 8, 12), (0, 3, 8, 10), (0, 7, 10))
BASSLINES = (  # (16th step, length in 16ths, interval above the root)
    ((0, 4, 0), (4, 4, 0), (8, 4, 0), (12, 4, 0)),
    ((0, 3, 0), (3, 3, 0), (6, 2, 12), (8, 3, 0), (11, 3, 7), (14, 2, 0)),
    ((0, 2, 0), (2, 2, 0), (4, 2, 12), (6, 2, 0), (8, 2, 0), (10, 2, 0), (12, 2, 7), (14, 2, 0)),
    ((0, 6, 0), (6, 2, 0), (8, 6, 7), (14, 2, 12)),
)
_RHYTHMS = (  # one bar of melody: (onset in eighths, length in eighths)
    ((0, 2), (2, 1), (3, 1), (4, 4)),
    ((0, 3), (3, 1), (4, 2), (6, 2)),
    ((0, 1), (1, 1), (2, 2), (4, 1), (5, 3)),
    ((1, 1), (2, 2), (4, 3), (7, 1)),
    ((0, 6), (6, 1), (7, 1)),
    ((0, 2), (2, 2), (4, 2), (6, 2)),
)


def pad(s: Section, instrument: str, velocity: float, bars: int) -> None:
    for bar in range(bars):
        # Voice each chord tone near middle C so chord changes move smoothly.
        for degree in s.chord(bar):
            midi = s.pitch(degree)
            midi += 12 * round((62 - midi) / 12)
            s.play(instrument, bar * s.meter, midi, s.meter, velocity)


def bass(s: Section, velocity: float, bars: int, line: int) -> None:
    for bar in range(bars):
        root = s.pitch(s.chord(bar)[0])
        root += 12 * round((40 - root) / 12)
        steps = BASSLINES[line] if s.meter == 4 else ((0, 12, 0),)
        for step, length, interval in steps:
            s.play("bass", bar * s.meter + step / 4, root + interval, length / 4 * 0.9, velocity)


def arp(s: Section, instrument: str, velocity: float, bars: int, step: float) -> None:
    order = s.rng.permutation(4).tolist() if s.rng.random() < 0.4 else [0, 1, 2, 3]
    for bar in range(bars):
        tones = [s.pitch(d, 1) for d in s.chord(bar)] + [s.pitch(s.chord(bar)[0], 2)]
        for i in range(round(s.meter / step)):
            if s.rng.random() < 0.08:
                continue  # the odd dropped note keeps patterns from sounding sequenced
            accent = 1.0 if i % round(1 / step) == 0 else 0.75
            midi = tones[order[i % 4]]
            s.play(instrument, bar * s.meter + i * step, midi, step, velocity * accent)


def drums(s: Section, velocity: float, bars: int, busy: float, fill: bool) -> None:
    kicks = _KICKS[int(s.rng.integers(len(_KICKS)))]
    snare = "clap" if s.rng.random() < 0.3 else "snare"
    hats = 1 if busy > 0.7 else 2
    s.play("crash", 0.0, 0, 1.0, velocity)
    for bar in range(bars):
        last = fill and bar == bars - 1
        for step in range(16):
            b = bar * 4 + step / 4
            if last and step >= 8:
                tom = ("snare", "tomh", "toml")[(step // 2) % 3] if step % 2 == 0 else "snare"
                s.play(tom, b, 0, 0.25, velocity * (0.6 + 0.4 * step / 16))
                continue
            if step in kicks or (step % 4 == 2 and s.rng.random() < 0.06):
                s.play("kick", b, 0, 0.25, velocity)
            if step in (4, 12):
                s.play(snare, b, 0, 0.25, velocity)
            elif step % 2 == 1 and s.rng.random() < 0.05:
                s.play("snare", b, 0, 0.25, velocity * 0.3)  # ghost note
            if step % hats == 0:
                open_hat = step % 4 == 2 and busy > 0.9 and bar % 2 == 1
                accent = 1.0 if step % 4 == 0 else 0.7
                s.play("ohat" if open_hat else "hat", b, 0, 0.25, velocity * accent)


def melody(s: Section, instrument: str, velocity: float, bars: int, echo: bool) -> None:
    motif = [_RHYTHMS[int(i)] for i in s.rng.integers(len(_RHYTHMS), size=2)]
    steps = s.rng.choice([-2, -1, -1, 1, 1, 2, 3], size=8).tolist()
    degree = s.chord(0)[0] + 7
    for bar in range(bars):
        rhythm: tuple[tuple[int, int], ...] = motif[bar % 2]
        if bar % 4 == 3 and s.rng.random() < 0.5:
            rhythm = _RHYTHMS[int(s.rng.integers(len(_RHYTHMS)))]  # answer phrase
        if bar % 8 == 7:
            rhythm = ((0, 2), (2, 6))  # phrase ends on a long note
        tones = {d % 7 for d in s.chord(bar)}
        for i, (onset, length) in enumerate(rhythm):
            if onset >= s.meter * 2:
                break
            move = steps[i % len(steps)] if s.rng.random() < 0.8 else int(s.rng.integers(-3, 4))
            degree = int(np.clip(degree + move, 5, 17))
            if onset % 4 == 0:  # strong beats land on a chord tone
                degree = min(
                    (d for d in range(degree - 3, degree + 4) if d % 7 in tones),
                    key=lambda d: abs(d - degree),
                )
            beat, beats = bar * s.meter + onset / 2, min(length, s.meter * 2 - onset) / 2
            s.play(instrument, beat, s.pitch(degree, 1), beats * 0.95, velocity)
            if echo:  # dotted-eighth delay, a staple of synth leads
                s.play(instrument, beat + 0.75, s.pitch(degree, 1), beats * 0.6, velocity * 0.3)


def ambient(s: Section, bars: int) -> None:
    root = s.pitch(0, -1)
    for bar in range(0, bars, 4):
        for interval in (0, 7, 12):
            s.play("drone", bar * s.meter, root + interval, min(4, bars - bar) * s.meter, 0.8)
    for beat in range(bars * s.meter):
        if s.rng.random() < 0.18:
            degree = s.chord(beat // s.meter)[int(s.rng.integers(3))]
            s.play("bell", beat + float(s.rng.uniform(0, 0.3)), s.pitch(degree, 2), 2.0, 0.6)
