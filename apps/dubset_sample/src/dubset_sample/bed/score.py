"""The bed's score: notes, keys, chord progressions, and a section's beat clock."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
# Scale degrees (0 = tonic); the "royal road" IV-V-iii-vi is anime's favourite.
PROGRESSIONS = {
    False: ((3, 4, 2, 5), (5, 3, 0, 4), (0, 4, 5, 3), (1, 4, 0, 5), (0, 5, 3, 4), (3, 4, 0, 0)),
    True: ((0, 5, 2, 6), (0, 3, 6, 2), (5, 6, 0, 0), (0, 6, 5, 4), (0, 3, 4, 0), (5, 3, 0, 6)),
}
# Section kind -> loudness; the quiet kinds (below 0.5) are the calm scenes.
KINDS = {
    "full": 1.0,
    "groove": 0.8,
    "build": 0.75,
    "calm": 0.45,
    "ambient": 0.28,
    "rest": 0.0,
}
_DRUMS = ("kick", "snare", "clap", "hat", "ohat", "crash", "tomh", "toml")


@dataclass(frozen=True)
class Note:
    """One note of the score: what plays, when, how high, how long and how hard."""

    instrument: str
    time: float  # seconds
    midi: int
    length: float  # seconds
    velocity: float


class Section:
    """Beat clock, key and chords of one section; turns beat positions into humanised notes."""

    def __init__(
        self,
        rng: np.random.Generator,
        start: float,
        beats: int,
        bpm: tuple[float, float],
        meter: int,
        tonic: int,
        minor: bool,
        chords: list[int],
        level: float,
    ) -> None:
        self.rng, self.meter, self.tonic, self.level = rng, meter, tonic, level
        self.scale = _MINOR if minor else _MAJOR
        self.chords = chords  # scale degree of each bar's chord
        # Tempo glides linearly across the section, like a player easing in or out.
        spb = 60.0 / np.linspace(bpm[0], bpm[1], beats)
        self.grid: list[float] = [start, *(start + np.cumsum(spb)).tolist()]
        self.notes: list[Note] = []

    @property
    def end(self) -> float:
        return self.grid[-1]

    def at(self, beat: float) -> float:
        i = min(max(0, int(beat)), len(self.grid) - 2)
        return self.grid[i] + (beat - i) * (self.grid[i + 1] - self.grid[i])

    def pitch(self, degree: int, octave: int = 0) -> int:
        return self.tonic + self.scale[degree % 7] + 12 * (degree // 7 + octave)

    def chord(self, bar: int) -> list[int]:
        root = self.chords[bar % len(self.chords)]
        return [root, root + 2, root + 4]

    def play(self, instrument: str, beat: float, midi: int, beats: float, velocity: float) -> None:
        jitter = self.rng.normal(0.0, 0.004 if instrument in _DRUMS else 0.008)
        t = max(0.0, self.at(beat) + jitter)
        length = self.at(beat + beats) - self.at(beat)
        vel = velocity * self.level * self.rng.uniform(0.85, 1.1)
        self.notes.append(Note(instrument, t, midi, length, vel))
