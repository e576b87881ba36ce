"""Subtitle cues fitted to speech, the pure part: each cue's audio window, the edges of its
force-aligned words moved onto the speech map, the checks that refuse a degenerate alignment,
and neighbours laid end to end.

Whisper's cross-attention alignment (see dubset_asr.subalign) places a line's inner words well,
but its edges are loose: the first word often stretches back over the silence before the line,
the last one ends a little early. The speech map (Silero VAD, core/speech.py) sees the edges,
but not whose speech it is; together they give segment edges on the speech of the cue's words.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import median

from dubset_asr.core.model import Segment, Word

Interval = tuple[int, int]
ALIGNED = "subtitle-aligned"
CUE = "subtitle-cue"


@dataclass(frozen=True)
class FitConfig:
    """How cues are fitted.

    window_pad_ms: audio taken around a cue (cue times lead and trail speech by hundreds of ms).
    snap_ms: an edge moves onto a speech edge no further than this away; speech that runs on
    further is another line's, and the aligned edge stays.
    join_ms: speech runs this close belong to one word (the VAD splits a word's soft tail).
    onset_pad_ms, offset_pad_ms: segment edges this far outside the speech map's edges (its
    onset frames lag the first sound; its offset already trails the last).
    min_probability: the median probability of the cue's tokens below which the text is not
    what is said (measured on whisper-base: spoken text 0.37..1.0, another line's 0.0..0.4).
    min_ms: an aligned span shorter than this has collapsed.
    max_window_ms: Whisper hears 30 s at once: windows are no longer, longer cues not aligned.
    """

    window_pad_ms: int = 1000
    snap_ms: int = 600
    join_ms: int = 100
    onset_pad_ms: int = 20
    offset_pad_ms: int = 0
    min_probability: float = 0.15
    min_ms: int = 60
    max_window_ms: int = 30_000


DEFAULT_FIT = FitConfig()


@dataclass(frozen=True)
class Fitted:
    """A cue's segment, where its times come from (ALIGNED or CUE), and why when from the cue."""

    segment: Segment
    source: str
    reason: str = ""


def cue_windows(
    cues: Sequence[Interval], duration_ms: int, pad_ms: int, max_ms: int = 30_000
) -> list[Interval]:
    """The audio window of each cue: the cue widened by pad_ms on each side, within the audio,
    no further into a neighbour than the middle between the two cues (where they overlap, the
    middle of the overlap), so the window holds little of the neighbours' speech, and no
    longer than max_ms (the padding shrinks first, then the cue's end is cut)."""
    out = []
    for i, (start, end) in enumerate(cues):
        lo, hi = max(0, start - pad_ms), min(duration_ms, end + pad_ms)
        if i > 0:
            lo = max(lo, min(start, (cues[i - 1][1] + start) // 2))
        if i + 1 < len(cues):
            hi = min(hi, max(end, (end + cues[i + 1][0] + 1) // 2))
        if hi - lo > max_ms:
            lo = max(lo, start - max(0, max_ms - (end - start)) // 2)
            hi = min(hi, lo + max_ms)
        out.append((min(lo, duration_ms), max(min(lo, duration_ms), hi)))
    return out


def fit_start(first: Word, speech: Sequence[Interval], config: FitConfig = DEFAULT_FIT) -> int:
    """The start of a line whose aligned first word is first: the onset of the speech under
    that word (the run where the word ends, with the runs before it that start inside the word
    or are no more than join_ms apart), less onset_pad_ms; the word's own start when no speech
    lies under it or the speech began over snap_ms before it (another line's)."""
    k = bisect_left([a for a, _b in speech], first.end_ms) - 1
    if k < 0 or speech[k][1] <= first.start_ms - config.join_ms:
        return first.start_ms
    while k > 0:
        a, b = speech[k - 1]
        inside = a >= first.start_ms - config.join_ms
        close = speech[k][0] - b <= config.join_ms and a >= first.start_ms - config.snap_ms
        if not (inside or close):
            break
        k -= 1
    onset = speech[k][0]
    if onset < first.start_ms - config.snap_ms:
        return first.start_ms
    return max(0, onset - config.onset_pad_ms)


def fit_end(last: Word, speech: Sequence[Interval], config: FitConfig = DEFAULT_FIT) -> int:
    """The end of a line whose aligned last word is last: the offset of the speech under that
    word (the run where the word starts, with the runs after it that end inside the word or
    are no more than join_ms apart), plus offset_pad_ms; the word's own end when no speech lies
    under it or the speech runs on over snap_ms after it (another line's)."""
    k = bisect_left([b for _a, b in speech], last.start_ms + 1)
    if k >= len(speech) or speech[k][0] >= last.end_ms + config.join_ms:
        return last.end_ms
    while k + 1 < len(speech):
        a, b = speech[k + 1]
        inside = b <= last.end_ms + config.join_ms
        close = a - speech[k][1] <= config.join_ms and b <= last.end_ms + config.snap_ms
        if not (inside or close):
            break
        k += 1
    offset = speech[k][1]
    if offset > last.end_ms + config.snap_ms:
        return last.end_ms
    return offset + config.offset_pad_ms


def degenerate_reason(
    segment: Segment,
    probabilities: Sequence[float],
    speech: Sequence[Interval],
    config: FitConfig = DEFAULT_FIT,
) -> str | None:
    """Why an aligned segment cannot be trusted, None when it can: no words, text the audio
    does not carry (token probabilities), no speech under the words, a collapsed span."""
    if not segment.words or not probabilities:
        return "the cue has no words to say, only punctuation and symbols"
    typical = median(probabilities)
    if typical < config.min_probability:
        return (
            f"the text does not match the speech (median token probability {typical:.2f} "
            f"< {config.min_probability})"
        )
    if not any(a < segment.end_ms and b > segment.start_ms for a, b in speech):
        return "no speech under the aligned words"
    if segment.end_ms - segment.start_ms < config.min_ms:
        return f"the alignment collapsed to {segment.end_ms - segment.start_ms} ms"
    return None


def with_edges(segment: Segment, start_ms: int, end_ms: int) -> Segment:
    """The segment spanning [start_ms, end_ms] (end_ms at least start_ms): its first word
    starts at start_ms, its last ends at end_ms, every word within, none starting before the
    word before it."""
    end_ms = max(end_ms, start_ms)
    words: list[Word] = []
    for i, w in enumerate(segment.words):
        start = start_ms if i == 0 else min(max(w.start_ms, words[-1].start_ms), end_ms)
        end = end_ms if i == len(segment.words) - 1 else min(max(w.end_ms, start), end_ms)
        words.append(replace(w, start_ms=start, end_ms=end))
    return replace(segment, start_ms=start_ms, end_ms=end_ms, words=tuple(words))


def fit_edges(
    segment: Segment, speech: Sequence[Interval], config: FitConfig = DEFAULT_FIT
) -> Segment:
    """The aligned segment with its edges on the speech of its first and last words."""
    start = fit_start(segment.words[0], speech, config)
    return with_edges(segment, start, fit_end(segment.words[-1], speech, config))


def cue_segment(start_ms: int, end_ms: int, text: str) -> Segment:
    """A segment at the cue's own times: one word, the whole text, confidence 0 (not heard)."""
    return Segment(start_ms, end_ms, text, (Word(start_ms, end_ms, text, 0.0),))


def settle(fitted: Sequence[Fitted]) -> list[Fitted]:
    """The segments in order of start, laid end to end: where two overlap they meet in the
    middle of the overlap, kept after the earlier one's last word start and before the later
    one's first word end where those allow."""
    out = sorted(fitted, key=lambda f: (f.segment.start_ms, f.segment.end_ms))
    for i in range(1, len(out)):
        a, b = out[i - 1].segment, out[i].segment
        if a.end_ms <= b.start_ms:
            continue
        cut = (b.start_ms + a.end_ms) // 2
        low, high = a.words[-1].start_ms, b.words[0].end_ms
        if low <= high:
            cut = min(max(cut, low), high)
        cut = max(cut, a.start_ms)
        out[i - 1] = replace(out[i - 1], segment=with_edges(a, a.start_ms, cut))
        out[i] = replace(out[i], segment=with_edges(b, cut, max(b.end_ms, cut)))
    return out
