"""The music-and-effects bed both dubs share: sectioned synth BGM plus irregular sound effects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dubset_sample import synth

F32 = npt.NDArray[np.float32]
_MASK64 = (1 << 64) - 1
_TARGET_RMS = 10.0 ** (-20.0 / 20.0)
_KNEE, _CEILING = 0.8, 0.99
_CHUNK = 1 << 20
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
# Scale degrees (0 = tonic); the "royal road" IV-V-iii-vi is anime's favourite.
_PROGRESSIONS = {
    False: ((3, 4, 2, 5), (5, 3, 0, 4), (0, 4, 5, 3), (1, 4, 0, 5), (0, 5, 3, 4), (3, 4, 0, 0)),
    True: ((0, 5, 2, 6), (0, 3, 6, 2), (5, 6, 0, 0), (0, 6, 5, 4), (0, 3, 4, 0), (5, 3, 0, 6)),
}
# Section kind -> loudness; the quiet kinds (below 0.5) are the calm scenes.
_KINDS = {
    "full": 1.0,
    "groove": 0.8,
    "build": 0.75,
    "calm": 0.45,
    "ambient": 0.28,
    "rest": 0.0,
}
_MIX = {  # instrument levels before the final normalisation
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
_EFFECT_PLAN = {
    "whoosh": (3.0, 0.5, 1.4, -6.0),
    "impact": (2.0, 1.5, 3.0, -6.0),
    "footsteps": (2.0, 2.0, 6.0, -4.0),
    "knock": (1.5, 0.8, 1.6, -4.0),
    "chime": (1.5, 2.5, 5.0, -8.0),
    "rain": (1.0, 8.0, 22.0, -14.0),
    "wind": (1.0, 6.0, 18.0, -12.0),
    "crowd": (1.0, 6.0, 16.0, -12.0),
}


@dataclass(frozen=True)
class Effect:
    """One sound effect in the bed and the span it sounds in."""

    kind: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Bed:
    """A rendered backing track: mono float32 audio and the effects placed in it."""

    audio: npt.NDArray[np.float32]
    effects: tuple[Effect, ...]


@dataclass(frozen=True)
class _Note:
    instrument: str
    time: float  # seconds
    midi: int
    length: float  # seconds
    velocity: float


class _Section:
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
        self.notes: list[_Note] = []

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
        self.notes.append(_Note(instrument, t, midi, length, vel))


_DRUMS = ("kick", "snare", "clap", "hat", "ohat", "crash", "tomh", "toml")
_KICKS = ((0, 8), (0, 6, 8), (0, 4, 8, 12), (0, 3, 8, 10), (0, 7, 10))
_BASSLINES = (  # (16th step, length in 16ths, interval above the root)
    ((0, 4, 0), (4, 4, 0), (8, 4, 0), (12, 4, 0)),
    ((0, 3, 0), (3, 3, 0), (6, 2, 12), (8, 3, 0), (11, 3, 7), (14, 2, 0)),
    ((0, 2, 0), (2, 2, 0), (4, 2, 12), (6, 2, 0), (8, 2, 0), (10, 2, 0), (12, 2, 7), (14, 2, 0)),
    ((0, 6, 0), (6, 2, 0), (8, 6, 7), (14, 2, 12)),
)


def _pad(s: _Section, instrument: str, velocity: float, bars: int) -> None:
    for bar in range(bars):
        # Voice each chord tone near middle C so chord changes move smoothly.
        for degree in s.chord(bar):
            midi = s.pitch(degree)
            midi += 12 * round((62 - midi) / 12)
            s.play(instrument, bar * s.meter, midi, s.meter, velocity)


def _bass(s: _Section, velocity: float, bars: int, line: int) -> None:
    for bar in range(bars):
        root = s.pitch(s.chord(bar)[0])
        root += 12 * round((40 - root) / 12)
        steps = _BASSLINES[line] if s.meter == 4 else ((0, 12, 0),)
        for step, length, interval in steps:
            s.play("bass", bar * s.meter + step / 4, root + interval, length / 4 * 0.9, velocity)


def _arp(s: _Section, instrument: str, velocity: float, bars: int, step: float) -> None:
    order = s.rng.permutation(4).tolist() if s.rng.random() < 0.4 else [0, 1, 2, 3]
    for bar in range(bars):
        tones = [s.pitch(d, 1) for d in s.chord(bar)] + [s.pitch(s.chord(bar)[0], 2)]
        for i in range(round(s.meter / step)):
            if s.rng.random() < 0.08:
                continue  # the odd dropped note keeps patterns from sounding sequenced
            accent = 1.0 if i % round(1 / step) == 0 else 0.75
            midi = tones[order[i % 4]]
            s.play(instrument, bar * s.meter + i * step, midi, step, velocity * accent)


def _drums(s: _Section, velocity: float, bars: int, busy: float, fill: bool) -> None:
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


_RHYTHMS = (  # one bar of melody: (onset in eighths, length in eighths)
    ((0, 2), (2, 1), (3, 1), (4, 4)),
    ((0, 3), (3, 1), (4, 2), (6, 2)),
    ((0, 1), (1, 1), (2, 2), (4, 1), (5, 3)),
    ((1, 1), (2, 2), (4, 3), (7, 1)),
    ((0, 6), (6, 1), (7, 1)),
    ((0, 2), (2, 2), (4, 2), (6, 2)),
)


def _melody(s: _Section, instrument: str, velocity: float, bars: int, echo: bool) -> None:
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


def _ambient(s: _Section, bars: int) -> None:
    root = s.pitch(0, -1)
    for bar in range(0, bars, 4):
        for interval in (0, 7, 12):
            s.play("drone", bar * s.meter, root + interval, min(4, bars - bar) * s.meter, 0.8)
    for beat in range(bars * s.meter):
        if s.rng.random() < 0.18:
            degree = s.chord(beat // s.meter)[int(s.rng.integers(3))]
            s.play("bell", beat + float(s.rng.uniform(0, 0.3)), s.pitch(degree, 2), 2.0, 0.6)


def _fill_section(s: _Section, kind: str, bars: int, last_fill: bool) -> None:
    rng = s.rng

    def pick(*names: str) -> str:
        return names[int(rng.integers(len(names)))]

    def every(*beats: float) -> float:
        return beats[int(rng.integers(len(beats)))]

    if kind == "ambient":
        _ambient(s, bars)
        return
    if kind == "calm":
        _pad(s, pick("pad", "strings"), 0.7, bars)
        _arp(s, pick("epiano", "marimba", "pluck", "bell"), 0.7, bars, every(1.0, 0.5))
        if rng.random() < 0.6:
            _melody(s, pick("flute", "epiano", "strings"), 0.8, bars, echo=False)
        if rng.random() < 0.5:
            _bass(s, 0.5, bars, 3)
        return
    line = int(rng.integers(len(_BASSLINES)))
    _pad(s, pick("pad", "strings", "organ"), 0.8, bars)
    _bass(s, 0.9, bars, line)
    if kind == "build":
        for bar in range(bars):
            ramp = 0.4 + 0.6 * bar / max(1, bars - 1)
            for i in range(16 if bar >= bars // 2 else 8):
                s.play("hat", bar * 4 + i * (0.25 if bar >= bars // 2 else 0.5), 0, 0.25, ramp)
            rolls = 4 if bar < bars - 2 else 16
            for i in range(rolls if bar >= bars // 2 else 0):
                s.play("snare", bar * 4 + i * 4 / rolls, 0, 0.25, 0.5 * ramp)
        _arp(s, pick("pluck", "chip"), 0.6, bars, 0.25)
        return
    _drums(s, 0.9, bars, 1.0 if kind == "full" else 0.6, last_fill)
    _arp(s, pick("pluck", "epiano", "marimba", "chip"), 0.6, bars, every(0.5, 0.25))
    if kind == "full":
        _melody(s, pick("lead", "chip", "flute", "strings"), 1.0, bars, echo=rng.random() < 0.6)
    elif rng.random() < 0.5:
        _melody(s, "bell", 0.7, bars, echo=False)


def _next_kind(rng: np.random.Generator, history: list[str]) -> str:
    if not history:
        return str(rng.choice(["ambient", "calm", "groove", "full"], p=[0.25, 0.35, 0.2, 0.2]))
    loud = 0
    for kind in reversed(history):
        if _KINDS[kind] < 0.5:
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


def _compose_bed(seconds: float, rng: np.random.Generator) -> list[_Note]:
    tonic, minor = _bed_key(rng)
    base = rng.uniform(78.0, 126.0)
    history: list[str] = []
    notes: list[_Note] = []
    t, shift, bpm = 0.0, 0, base
    while t < seconds:
        kind = _next_kind(rng, history)
        history.append(kind)
        quiet = _KINDS[kind] < 0.5
        meter = 3 if quiet and rng.random() < 0.3 else 4
        bars = _bars(kind, rng)
        if rng.random() < 0.12:
            shift = int(np.clip(shift + rng.choice([-2, 1, 2, 5]), -5, 5))  # key change
        target = base * rng.uniform(0.93, 1.07) * (0.88 if quiet else 1.0)
        prog = _PROGRESSIONS[minor][int(rng.integers(6))]
        span = 2 if quiet and rng.random() < 0.5 else 1
        chords = [d for d in prog for _ in range(span)]
        s = _Section(
            rng, t, bars * meter, (bpm, target), meter, tonic + shift, minor, chords, _KINDS[kind]
        )
        bpm = target
        if kind != "rest":
            _fill_section(s, kind, bars, last_fill=rng.random() < 0.7)
        notes += s.notes
        t = s.end
    return notes


def _bed_key(rng: np.random.Generator) -> tuple[int, bool]:
    """Tonic (MIDI, octave 3) and mode: the first draws of the bed's score stream."""
    return 48 + int(rng.integers(0, 12)), bool(rng.random() < 0.45)


def _compose_intro(seconds: float, rng: np.random.Generator, bed_tonic: int) -> list[_Note]:
    # An opening theme: faster, always major, a rock band with brass instead of the bed's synths,
    # in a key a step, third, fourth or fifth away from the bed's.
    tonic = 52 + (bed_tonic + int(rng.choice([2, 3, 5, 7, 9])) - 52) % 12
    bpm = rng.uniform(148.0, 176.0)
    # Title sting: the band hits one chord together and lets it ring for two bars.
    sting = _Section(rng, 0.0, 8, (bpm, bpm), 4, tonic, False, [0], 1.0)
    for midi in (sting.pitch(0), sting.pitch(2), sting.pitch(4), sting.pitch(0, 1)):
        sting.play("brass", 0.0, midi, 6.0, 1.0)
    for drum in ("crash", "kick", "toml"):
        sting.play(drum, 0.0, 0, 1.0, 1.0)
    notes = sting.notes
    t, part = sting.end, 0
    while t < seconds:
        prog = _PROGRESSIONS[False][int(rng.integers(6))]
        s = _Section(rng, t, 32, (bpm, bpm), 4, tonic, False, list(prog), 1.0)
        _bass(s, 1.0, 8, 2)
        _drums(s, 1.0, 8, 1.0, fill=True)
        for bar in range(8):
            root = s.pitch(s.chord(bar)[0], -1)
            for i in range(8):
                s.play("gtr", bar * 4 + i / 2, root, 0.45, 0.9 if i % 2 == 0 else 0.7)
        if part % 2 == 1:  # chorus
            _pad(s, "strings", 0.9, 8)
            _melody(s, "brass", 1.1, 8, echo=False)
        else:  # verse
            _melody(s, "organ", 0.8, 8, echo=False)
        notes += s.notes
        t, part = s.end, part + 1
    return notes


def _render(notes: list[_Note], n: int, sr: int, voice: synth.Synth) -> F32:
    out = np.zeros(n, np.float32)
    for note in notes:
        start = round(note.time * sr)
        if start < n:
            buf = voice.note(note.instrument, note.midi, max(1, round(note.length * sr)))
            synth.add(out, start, buf, note.velocity * _MIX[note.instrument])
    return out


def _place_effects(out: F32, sr: int, rng: np.random.Generator) -> tuple[Effect, ...]:
    # Levels are set against the music's loud passages (90th percentile of half-second RMS),
    # measured on a decimated copy because only the level matters.
    n = len(out)
    step = max(1, sr // 4000)
    sub = out[::step].astype(np.float64)
    hop = max(1, round(sr / step / 2))
    frames = np.sqrt(np.mean(np.square(sub[: len(sub) - len(sub) % hop].reshape(-1, hop)), 1))
    ref = float(np.percentile(frames, 90)) if len(frames) else 0.0
    ref = ref if ref > 0 else 0.1
    kinds = list(_EFFECT_PLAN)
    weights = np.array([_EFFECT_PLAN[k][0] for k in kinds])
    effects: list[Effect] = []
    duration = n / sr
    t = rng.uniform(1.0, 8.0)
    while t < duration:
        kind = str(rng.choice(kinds, p=weights / weights.sum()))
        _, shortest, longest, db = _EFFECT_PLAN[kind]
        seconds = min(rng.uniform(shortest, longest), duration - t)
        start = round(t * sr)
        buf = synth.effect(kind, seconds, sr, rng)
        synth.add(out, start, buf, ref * 10.0 ** (db / 20.0))
        # Spans from the plan, not from sample counts, so every sample rate lists the same ones.
        start_ms = round(t * 1000.0)
        end_ms = min(round((t + seconds) * 1000.0), round(duration * 1000.0))
        if end_ms > start_ms:
            effects.append(Effect(kind, start_ms, end_ms))
        t += rng.uniform(5.0, 15.0)
    return tuple(effects)


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


def _master(x: F32) -> F32:
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
    notes = _compose_bed(n / sample_rate, _rng(seed, 1))
    out = _render(notes, n, sample_rate, synth.Synth(sample_rate, _rng(seed, 2)))
    effects = _place_effects(out, sample_rate, _rng(seed, 3))
    return Bed(_master(out), effects)


def render_intro(duration_ms: int, sample_rate: int, seed: int) -> F32:
    """An opening theme (its own key, tempo and band) that fades out at its end; -20 dBFS."""
    n = _samples(duration_ms, sample_rate)
    if n == 0:
        return np.zeros(0, np.float32)
    bed_tonic, _ = _bed_key(_rng(seed, 1))
    notes = _compose_intro(n / sample_rate, _rng(seed, 4), bed_tonic)
    out = _render(notes, n, sample_rate, synth.Synth(sample_rate, _rng(seed, 5)))
    fade = min(n // 3, round(3.0 * sample_rate))
    if fade > 0:
        out[n - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32) ** 2
    return _master(out)
