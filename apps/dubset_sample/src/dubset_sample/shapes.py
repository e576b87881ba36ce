"""Release shapes (pure): how the EN release differs from the JA one beyond a constant offset.

- dual-mkv: one Matroska file (JA video; Japanese, English and an English commentary track)
  besides ja.mp4 / en.mp4; its EN track is conformed to the JA video's timeline.
- surround: the EN audio is 5.1 (dialogue in the centre, the bed on the fronts and surrounds).
- card: a 3 s distributor card (a title picture and a sting, no dialogue) inserted into the EN
  release in a pause between two lines near the middle.
- pal / pal-pitch: the whole EN release runs 25/(24000/1001) times fast (a PAL speed-up), with
  pitch correction (atempo) or without (resampled).
- subs: subtitle files next to the videos (en.ass with actors, en.srt, ja.srt), and with
  dual-mkv two ASS streams in episode.mkv (dubset_sample.subs); the releases stay as they are.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

import numpy as np

from dubset_sample.art import BACKGROUNDS
from dubset_sample.merge import MAX_GAP_MS
from dubset_sample.mix import Audio, samples
from dubset_sample.shots import TITLE, Shot
from dubset_sample.timemap import TimeMap

DUAL_MKV, SURROUND, CARD, PAL, PAL_PITCH = "dual-mkv", "surround", "card", "pal", "pal-pitch"
SUBS = "subs"
SHAPES: tuple[str, ...] = (DUAL_MKV, SURROUND, CARD, PAL, PAL_PITCH, SUBS)
CARD_MS = 3000
STING_MS = 1400
PAL_SPEED = Fraction(25) / Fraction(24000, 1001)  # 25025/24000: how much faster PAL plays
PAL_TIME = 1 / PAL_SPEED  # EN times scale by this (24000/25025)
_SPEECH_MARGIN_MS = 60  # the card starts at least this far from any speech

# 5.1 (ffmpeg layout "5.1": FL FR FC LFE BL BR): the gains of each stem in each channel.
SURROUND_LAYOUT = ("FL", "FR", "FC", "LFE", "BL", "BR")
SURROUND_MATRIX: dict[str, dict[str, float]] = {
    "FL": {"backing": 0.7},
    "FR": {"backing": 0.7},
    "FC": {"dialogue": 1.0},
    "LFE": {"backing_lowpass_120hz": 0.5},
    "BL": {"backing_delayed_15ms": 0.45},
    "BR": {"backing_delayed_15ms": 0.45},
}
_SURROUND_DELAY_MS = 15
_LFE_CUTOFF_HZ = 120.0


class ShapeError(ValueError):
    """An unknown shape or a combination that cannot be built."""


def parse_shapes(values: Iterable[str]) -> tuple[str, ...]:
    """Shapes from repeated and/or comma-separated values, deduplicated, in SHAPES order."""
    named = {v.strip().lower() for value in values for v in value.split(",") if v.strip()}
    unknown = sorted(named - set(SHAPES))
    if unknown:
        raise ShapeError(f"unknown --shape {', '.join(unknown)} (choose from {', '.join(SHAPES)})")
    if {PAL, PAL_PITCH} <= named:
        raise ShapeError("--shape pal and pal-pitch exclude each other (one speed-up at a time)")
    return tuple(s for s in SHAPES if s in named)


def speed_mode(shapes: Sequence[str]) -> str | None:
    return PAL if PAL in shapes else PAL_PITCH if PAL_PITCH in shapes else None


@dataclass(frozen=True)
class EnTimeline:
    """How the shaped EN release's timeline derives from the plain one (intro + program)."""

    card_at_ms: int | None  # plain EN time where the card is inserted
    speed: str | None  # PAL, PAL_PITCH or None

    def after_card(self, ms: int) -> int:
        """A plain EN time on the timeline with the card inserted (before any speed-up)."""
        return ms + CARD_MS if self.card_at_ms is not None and ms >= self.card_at_ms else ms

    def sped(self, ms: int) -> int:
        """A time of the (card-inserted) 23.976 fps master on the sped-up release."""
        if self.speed is None:
            return ms
        return int((ms * PAL_TIME + Fraction(1, 2)) // 1)

    def __call__(self, ms: int) -> int:
        """A plain EN time on the shaped EN release."""
        return self.sped(self.after_card(ms))

    def time_map(self, plain: TimeMap) -> TimeMap:
        shaped = plain if self.card_at_ms is None else plain.insert_en(self.card_at_ms, CARD_MS)
        return shaped if self.speed is None else shaped.scale_en(PAL_TIME)


def card_point(speech: Sequence[tuple[int, int]], shot_cuts: Sequence[int], total_ms: int) -> int:
    """Where the card goes (plain EN time): in a pause between two lines that no clip pair
    spans (longer than the merge gap), nearest the middle; at a shot cut within it if any."""
    merged: list[list[int]] = []
    for start, end in sorted(speech):
        if merged and start - merged[-1][1] <= MAX_GAP_MS:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    best: tuple[float, int] | None = None
    for (_, a), (b, _) in pairwise(merged):
        lo, hi = a + _SPEECH_MARGIN_MS, b - _SPEECH_MARGIN_MS
        if lo > hi:
            continue
        inside = [c for c in shot_cuts if lo <= c <= hi]
        mid = (lo + hi) // 2
        point = min(inside, key=lambda c: (abs(c - mid), c)) if inside else mid
        key = (abs(point - total_ms / 2), point)
        if best is None or key < best:
            best = key
    if best is None:
        raise ShapeError("--shape card needs a pause between two lines: give more --seconds")
    return best[1]


def insert_card_shot(shots: Sequence[Shot], at_ms: int, seed: int) -> tuple[Shot, ...]:
    """The shots with a CARD_MS title card at at_ms (splitting the shot there), later shots
    CARD_MS later."""
    background = random.Random(f"card:{seed}").choice(BACKGROUNDS)
    card = Shot(at_ms, at_ms + CARD_MS, background, (), TITLE)
    out: list[Shot] = []
    for s in shots:
        if s.end_ms <= at_ms:
            out.append(s)
        elif s.start_ms >= at_ms:
            out.append(_shifted(s, CARD_MS))
        else:
            out.append(dataclasses.replace(s, end_ms=at_ms))
            out.append(dataclasses.replace(s, start_ms=at_ms + CARD_MS, end_ms=s.end_ms + CARD_MS))
    out.append(card)
    return tuple(sorted(out, key=lambda s: s.start_ms))


def sped_shots(shots: Sequence[Shot], timeline: EnTimeline, end_ms: int) -> tuple[Shot, ...]:
    """Shots of the 23.976 fps master on the sped-up release; the last ends at end_ms."""
    out = [
        dataclasses.replace(s, start_ms=timeline.sped(s.start_ms), end_ms=timeline.sped(s.end_ms))
        for s in shots
    ]
    out[-1] = dataclasses.replace(out[-1], end_ms=end_ms)
    return tuple(out)


def insert_silence(audio: Audio, at_ms: int, rate: int, fill: Audio | None = None) -> Audio:
    """audio with CARD_MS inserted at at_ms: fill (padded with silence), or silence."""
    gap = np.zeros(samples(CARD_MS, rate), np.float32)
    if fill is not None:
        gap[: len(fill)] = fill[: len(gap)]
    at = samples(at_ms, rate)
    return np.concatenate([audio[:at], gap, audio[at:]])


def sting(rate: int, seed: int, level: float) -> Audio:
    """A short chime (a major chord, struck and decaying) for the card; peak about level."""
    rng = random.Random(f"sting:{seed}")
    root = 440.0 * 2 ** (rng.randint(-5, 4) / 12)
    t = np.arange(samples(STING_MS, rate), dtype=np.float64) / rate
    out = np.zeros_like(t)
    for k, ratio in enumerate((1.0, 1.25, 1.5, 2.0)):
        onset = 0.06 * k
        env = np.where(t >= onset, np.exp(-(t - onset) * 3.2), 0.0)
        out += env * np.sin(2 * np.pi * root * ratio * (t - onset)) / (1 + 0.4 * k)
    fade = min(len(t), rate // 20)
    out[len(t) - fade :] *= np.linspace(1.0, 0.0, fade)
    peak = float(np.max(np.abs(out))) or 1.0
    return (out * (level / peak)).astype(np.float32)


def upmix_51(dialogue: Audio, backing: Audio, rate: int) -> Audio:
    """(n, 6) float32 in SURROUND_LAYOUT order, per SURROUND_MATRIX."""
    delay = samples(_SURROUND_DELAY_MS, rate)
    delayed = np.concatenate([np.zeros(delay, np.float32), backing[: len(backing) - delay]])
    low = _lowpass(backing, rate, _LFE_CUTOFF_HZ)
    front, rear, lfe = (next(iter(SURROUND_MATRIX[c].values())) for c in ("FL", "BL", "LFE"))
    channels = [
        backing * front,
        backing * front,
        dialogue,
        low * lfe,
        delayed * rear,
        delayed * rear,
    ]
    return np.stack(channels, axis=1).astype(np.float32)


def _lowpass(audio: Audio, rate: int, cutoff_hz: float) -> Audio:
    """A zero-phase brick-wall low-pass in the frequency domain (deterministic numpy FFT)."""
    if audio.size == 0:
        return audio
    spectrum = np.fft.rfft(audio.astype(np.float64))
    freqs = np.fft.rfftfreq(len(audio), 1 / rate)
    spectrum[freqs > cutoff_hz] = 0
    return np.fft.irfft(spectrum, len(audio)).astype(np.float32)


def on_ja_timeline(audio: Audio, ja_offset_ms: int, ja_total_ms: int, rate: int) -> Audio:
    """Plain EN audio (any channel count) conformed to the JA video: shifted by the offset
    (silence where only the JA release has material), cut or padded to the JA length."""
    shift = samples(ja_offset_ms, rate)
    pad = np.zeros((max(0, shift), *audio.shape[1:]), np.float32)
    moved = np.concatenate([pad, audio[max(0, -shift) :]])
    n = samples(ja_total_ms, rate)
    tail = np.zeros((max(0, n - len(moved)), *audio.shape[1:]), np.float32)
    return np.concatenate([moved, tail])[:n]


def commentary(dialogue: Audio, mix: Audio) -> Audio:
    """A commentary track: other words at every moment (the dialogue turned half the episode
    around) over the programme, ducked far under it. Deterministic and not the main mix."""
    talk = np.roll(dialogue, len(dialogue) // 2) * np.float32(0.8)
    return (talk + mix * np.float32(0.12)).astype(np.float32)


def _shifted(shot: Shot, ms: int) -> Shot:
    return dataclasses.replace(shot, start_ms=shot.start_ms + ms, end_ms=shot.end_ms + ms)
