"""An automatic dub against the human one, in pure functions: each dubbed line against the human
dub's line of the same Japanese line (times on the Japanese timeline), the voices per
character, and the stretches of the episode where nobody speaks (where the bed is scored)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dubset_eval.dubreport import DubLine
from dubset_eval.truth import Line, Truth

QUIET_PAD_MS = 300  # kept clear of every line's edges when scoring the bed


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolation percentile (numpy's default); None for no values."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else None


@dataclass(frozen=True)
class Match:
    """A dubbed line and the truth line its Japanese span overlaps most, with the human dub's
    line on the Japanese timeline."""

    line: DubLine
    truth: Line
    human_start_ms: float
    human_end_ms: float

    @property
    def start_error_ms(self) -> float:
        return self.line.start_ms - self.human_start_ms

    @property
    def end_error_ms(self) -> float:
        return self.line.end_ms - self.human_end_ms

    @property
    def rate_ratio(self) -> float | None:
        """The dubbed line's length over the human line's (> 1: slower, longer)."""
        human = self.human_end_ms - self.human_start_ms
        return (self.line.end_ms - self.line.start_ms) / human if human > 0 else None


def human_span(truth: Truth, line: Line) -> tuple[float, float] | None:
    """The human dub's line on the Japanese timeline: its EN times through the truth's time map
    (JA = EN + ja_offset_ms for a plain release); None without EN or outside the map."""
    if line.en is None:
        return None
    if truth.time_map is None:
        return line.en.start_ms + truth.ja_offset_ms, line.en.end_ms + truth.ja_offset_ms
    start = truth.time_map.to_ja(line.en.start_ms)
    # the end is the last moment of the line, mapped as such
    end = truth.time_map.to_ja(max(line.en.start_ms, line.en.end_ms - 1))
    if start is None or end is None:
        return None
    return start, end + (1 if line.en.end_ms > line.en.start_ms else 0)


def match_lines(lines: Sequence[DubLine], truth: Truth) -> list[Match]:
    """Each dubbed line with the truth line (JA and EN) its JA span overlaps longest, the
    earliest of equals; lines overlapping none, or whose human line lies outside the time
    map, are left out."""
    candidates = sorted(
        ((ln, ln.ja) for ln in truth.lines if ln.ja is not None and ln.en is not None),
        key=lambda lu: (lu[1].start_ms, lu[0].index),
    )
    out = []
    for dub in lines:
        best, most = None, 0
        for ln, ja in candidates:
            overlap = min(dub.ja_end_ms, ja.end_ms) - max(dub.ja_start_ms, ja.start_ms)
            if overlap > most:
                best, most = ln, overlap
        human = None if best is None else human_span(truth, best)
        if best is not None and human is not None:
            out.append(Match(dub, best, *human))
    return out


@dataclass(frozen=True)
class Timing:
    """Edge errors (signed, ms: dubbed minus human) and length ratios of the matched lines."""

    lines: int
    matched: int
    start_errors_ms: tuple[float, ...]
    end_errors_ms: tuple[float, ...]
    rate_ratios: tuple[float, ...]

    @property
    def matched_share(self) -> float | None:
        return self.matched / self.lines if self.lines else None

    def _abs(self, errors: Iterable[float], q: float) -> float | None:
        return percentile([abs(e) for e in errors], q)

    @property
    def start_p50_ms(self) -> float | None:
        return self._abs(self.start_errors_ms, 50)

    @property
    def start_p95_ms(self) -> float | None:
        return self._abs(self.start_errors_ms, 95)

    @property
    def end_p50_ms(self) -> float | None:
        return self._abs(self.end_errors_ms, 50)

    @property
    def end_p95_ms(self) -> float | None:
        return self._abs(self.end_errors_ms, 95)

    @property
    def start_median_signed_ms(self) -> float | None:
        """> 0: the dub starts later than the human dub, typically."""
        return percentile(self.start_errors_ms, 50)

    @property
    def rate_median(self) -> float | None:
        return percentile(self.rate_ratios, 50)


def timing(lines: int, matches: Sequence[Match]) -> Timing:
    ratios = tuple(r for m in matches if (r := m.rate_ratio) is not None)
    return Timing(
        lines,
        len(matches),
        tuple(m.start_error_ms for m in matches),
        tuple(m.end_error_ms for m in matches),
        ratios,
    )


@dataclass(frozen=True)
class Voices:
    """Characters that speak (in the truth) and the distinct voices the dub speaks with;
    shared: a voice given to lines of two or more characters, with their names; split: a
    character whose lines were given two or more voices, with those voices."""

    characters: int
    voices: int
    shared: tuple[tuple[str, tuple[str, ...]], ...]
    split: tuple[tuple[str, tuple[str, ...]], ...]


def voices(truth: Truth, lines: Sequence[DubLine], matches: Sequence[Match]) -> Voices:
    speaking = {ln.speaker for ln in truth.lines if ln.ja is not None}
    bases = {x.voice_base for x in lines if x.voice_base}
    by_voice: dict[str, set[str]] = {}
    by_character: dict[str, set[str]] = {}
    for m in matches:
        if m.line.voice_base:
            by_voice.setdefault(m.line.voice_base, set()).add(m.truth.speaker)
            by_character.setdefault(m.truth.speaker, set()).add(m.line.voice_base)
    shared = tuple(
        (voice, tuple(sorted(truth.name(s) for s in speakers)))
        for voice, speakers in sorted(by_voice.items())
        if len(speakers) > 1
    )
    split = tuple(
        (truth.name(speaker), tuple(sorted(used)))
        for speaker, used in sorted(by_character.items())
        if len(used) > 1
    )
    return Voices(len(speaking), len(bases), shared, split)


def speech_spans(truth: Truth, lines: Sequence[DubLine]) -> list[tuple[float, float]]:
    """Every span where someone speaks, on the Japanese timeline: the truth's JA lines, the
    human dub's lines mapped onto it, and the dubbed lines."""
    spans: list[tuple[float, float]] = []
    for ln in truth.lines:
        if ln.ja is not None:
            spans.append((ln.ja.start_ms, ln.ja.end_ms))
        if (human := human_span(truth, ln)) is not None:
            spans.append(human)
    spans += [(x.start_ms, x.end_ms) for x in lines]
    return spans


def quiet_mask(
    n: int, rate: int, spans: Iterable[tuple[float, float]], pad_ms: int = QUIET_PAD_MS
) -> NDArray[np.bool_]:
    """True at the samples of n that lie pad_ms or more away from every span."""
    quiet = np.ones(n, dtype=bool)
    for start, end in spans:
        a = max(0, int((start - pad_ms) * rate // 1000))
        b = min(n, int(np.ceil((end + pad_ms) * rate / 1000)))
        if b > a:
            quiet[a:b] = False
    return quiet


def lag_samples(track: NDArray[np.floating], reference: NDArray[np.floating], max_lag: int) -> int:
    """How many samples later the track holds the reference's content (cross-correlation over
    their common length, its peak searched within +-max_lag)."""
    from scipy.signal import correlate

    n = min(len(track), len(reference))
    if n == 0:
        return 0
    c = correlate(track[:n], reference[:n], mode="full", method="fft")
    zero = n - 1
    lo, hi = max(0, zero - max_lag), min(len(c), zero + max_lag + 1)
    return int(np.argmax(c[lo:hi])) + lo - zero


def shift(track: NDArray[np.float64], lag: int) -> NDArray[np.float64]:
    """The track moved lag samples earlier (later for a negative lag, zeros in front)."""
    if lag >= 0:
        return track[lag:]
    return np.concatenate([np.zeros(-lag, dtype=track.dtype), track])


def cut(
    track: NDArray[np.float64], rate: int, spans: Iterable[tuple[float, float]], limit_s: float
) -> NDArray[np.float64]:
    """The track's samples within the spans (ms), one after another, at most limit_s seconds."""
    parts, total, limit = [], 0, int(limit_s * rate)
    for start, end in spans:
        a = max(0, int(start * rate // 1000))
        b = min(len(track), int(end * rate // 1000), a + limit - total)
        if b > a:
            parts.append(track[a:b])
            total += b - a
        if total >= limit:
            break
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)


def character_spans(matches: Sequence[Match]) -> dict[str, list[tuple[float, float]]]:
    """The dubbed lines' spans of each character (by the truth's speaker of the matched line)."""
    out: dict[str, list[tuple[float, float]]] = {}
    for m in matches:
        out.setdefault(m.truth.speaker, []).append((m.line.start_ms, m.line.end_ms))
    return out


def spoken_spans(truth: Truth, speaker: str, language: str) -> list[tuple[float, float]]:
    """The character's own lines in a language, on that language's timeline."""
    out = []
    for ln, u in truth.spoken(language):
        if ln.speaker == speaker:
            out.append((float(u.start_ms), float(u.end_ms)))
    return out


def tile_to(clip: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """The clip repeated to at least n samples, then cut at n; a longer clip unchanged."""
    if len(clip) >= n or len(clip) == 0:
        return clip
    return np.tile(clip, -(-n // len(clip)))[:n]


def dialogue_kept_db(
    track: NDArray[np.float64], backing: NDArray[np.float64], dialogue: NDArray[np.float64]
) -> float | None:
    """How much of the original dialogue a track keeps, against how much of the backing, in dB.

    The track is fitted (least squares over the common length) as b * backing + d * dialogue
    plus the rest (speech of its own, which neither explains); 20 log10(|d| / |b|): 0 dB for
    the original mix, far below 0 for a bed whose dialogue was taken out. None when the fit is
    undefined (silent or proportional stems) or keeps no backing.
    """
    n = min(len(track), len(backing), len(dialogue))
    y, b, d = track[:n], backing[:n], dialogue[:n]
    gram = np.array([[b @ b, b @ d], [b @ d, d @ d]], dtype=np.float64)
    if n == 0 or abs(float(np.linalg.det(gram))) <= 1e-12 * float(gram[0, 0] * gram[1, 1]):
        return None
    kb, kd = np.linalg.solve(gram, np.array([b @ y, d @ y], dtype=np.float64))
    if kb == 0:
        return None
    return 20.0 * float(np.log10(max(abs(float(kd)), 1e-10) / abs(float(kb))))
