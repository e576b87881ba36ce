"""Segments recut on a speech/silence map: one segment per stretch of speech, edges on speech."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from dubset_asr.core.model import Segment, Word
from dubset_asr.core.words import joiner
from dubset_common.speechmap import hysteresis_runs, join_gaps

Interval = tuple[int, int]
_CLAUSE_END = frozenset(".?!。？！…、,，")


@dataclass(frozen=True)
class SpeechConfig:
    """How speech probabilities become a map, and how the map cuts segments.

    onset/offset: hysteresis on the per-frame speech probability. min_speech_ms: shorter
    bursts are clicks, not speech. min_silence_ms: a silence at least this long between two
    words ends a line (see speech_config). pad_start_ms, pad_end_ms: segment edges stay this
    far outside the detected speech (its frames lag the onset a little, miss soft endings).
    snap_ms: a word no further than this from speech belongs to that speech; a word further
    away keeps its own times. end_offset_ms: a segment whose last word sits in a stretch of
    speech ends where that stretch ends plus this (negative: Silero's probability stays up a
    little after the voice stops; see end_on_speech).
    """

    onset: float = 0.5
    offset: float = 0.35
    min_speech_ms: int = 64
    min_silence_ms: int = 300
    pad_start_ms: int = 40
    pad_end_ms: int = 40
    snap_ms: int = 500
    end_offset_ms: int = -60


DEFAULT_SPEECH = SpeechConfig(min_silence_ms=300)
# Measured with this VAD on separated dialogue of generated episodes: pauses inside an English
# line reach 290 ms, inside a Japanese line (at 、 and between sentences) 420 ms; most gaps
# between lines are longer. A cut too many splits a line into two clips; a cut too few merges
# two lines into one clip (and, transitively, their neighbours in the other language).
_BY_LANGUAGE = {"ja": SpeechConfig(min_silence_ms=400, end_offset_ms=-40)}


def speech_config(language: str) -> SpeechConfig:
    """The speech map settings for a language (pauses inside lines differ by language)."""
    return _BY_LANGUAGE.get(language, DEFAULT_SPEECH)


def speech_intervals(
    probs: Sequence[float], frame_ms: int, duration_ms: int, config: SpeechConfig = DEFAULT_SPEECH
) -> list[Interval]:
    """[start, end) ms of speech from per-frame probabilities (frame i covers i*frame_ms on).

    Speech starts at a frame at or above onset and lasts until a frame below offset; runs
    shorter than min_speech_ms are dropped. Intervals are sorted, disjoint, within the audio.
    """
    runs = hysteresis_runs(probs, config.onset, config.offset)
    clipped = [(min(s * frame_ms, duration_ms), min(e * frame_ms, duration_ms)) for s, e in runs]
    return [(s, e) for s, e in clipped if e - s >= max(1, config.min_speech_ms)]


def speech_regions(speech: Sequence[Interval], min_silence_ms: int) -> list[Interval]:
    """Speech intervals joined across every silence shorter than min_silence_ms."""
    return join_gaps(speech, min_silence_ms)


def _overlapping(word: Word, regions: Sequence[Interval], starts: Sequence[int]) -> int:
    """The region holding most of the word (ties: the earlier), -1 when it touches none."""
    best, best_overlap = -1, 0
    for j in range(bisect_right(starts, word.end_ms) - 1, -1, -1):
        s, e = regions[j]
        if e <= word.start_ms:
            break
        overlap = min(e, word.end_ms) - max(s, word.start_ms)
        if overlap > 0 and overlap >= best_overlap:
            best, best_overlap = j, overlap
    return best


def _distance(word: Word, region: Interval) -> int:
    return max(region[0] - word.end_ms, word.start_ms - region[1], 0)


def _nearest(word: Word, regions: Sequence[Interval], starts: Sequence[int], snap: int) -> int:
    """The nearest region no further than snap ms (ties: the later), else -1."""
    i = bisect_right(starts, word.end_ms)
    near, distance = -1, snap
    for j in (i - 1, i):
        if 0 <= j < len(regions) and _distance(word, regions[j]) <= distance:
            near, distance = j, _distance(word, regions[j])
    return near


def _cut_in_gap(words: Sequence[Word], lo: int, hi: int, left: Interval, right: Interval) -> int:
    """Where words lo..hi-1 (all in the silence between left and right) are cut: behind the
    last one ending a clause, else where their midpoints pass the middle of the silence."""
    for c in range(hi, lo - 1, -1):
        if words[c - 1].text[-1:] in _CLAUSE_END:
            return c
    middle = (left[1] + right[0]) / 2
    c = lo
    while c < hi and (words[c].start_ms + words[c].end_ms) / 2 < middle:
        c += 1
    return c


def _place(words: Sequence[Word], regions: Sequence[Interval], snap: int) -> list[int]:
    """Each word's region: the one it overlaps most; a word inside a silence goes with its
    neighbours (see _cut_in_gap); -1 when no region is within snap ms of a segment's words."""
    starts = [s for s, _e in regions]
    keys = [_overlapping(w, regions, starts) for w in words]
    placed = [i for i, k in enumerate(keys) if k >= 0]
    if not placed:
        return [_nearest(w, regions, starts, snap) for w in words]
    for i in range(placed[0]):
        keys[i] = keys[placed[0]]
    for i in range(placed[-1] + 1, len(words)):
        keys[i] = keys[placed[-1]]
    for a, b in pairwise(placed):
        if b == a + 1:
            continue
        ka, kb = keys[a], keys[b]
        cut = _cut_in_gap(words, a + 1, b, regions[ka], regions[kb]) if ka < kb else b
        for i in range(a + 1, b):
            keys[i] = ka if i < cut else kb
    return keys


def _separators(segment: Segment, language: str) -> list[str]:
    """What stands before each word in the segment's text ("" before the first)."""
    seps: list[str] = []
    pos = 0
    for w in segment.words:
        at = segment.text.find(w.text, pos)
        if at < 0:
            sep = joiner(language)
            return [""] + [sep] * (len(segment.words) - 1)
        seps.append(segment.text[pos:at] if seps else "")
        pos = at + len(w.text)
    return seps


def _groups(words: Sequence[Word], keys: Sequence[int]) -> list[list[int]]:
    """Word indices cut where the region changes; an unplaced word (-1) joins its neighbour."""
    filled = list(keys)
    for i in range(1, len(filled)):
        if filled[i] < 0:
            filled[i] = filled[i - 1]
    for i in range(len(filled) - 2, -1, -1):
        if filled[i] < 0:
            filled[i] = filled[i + 1]
    out: list[list[int]] = []
    for i in range(len(words)):
        if out and filled[i] == filled[out[-1][-1]]:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def resegment(
    segments: Sequence[Segment],
    speech: Sequence[Interval],
    language: str,
    duration_ms: int | None = None,
    config: SpeechConfig = DEFAULT_SPEECH,
) -> tuple[Segment, ...]:
    """segments cut at every silence of min_silence_ms or more between their words, each word
    trimmed to the speech it sits in (plus the pads), and laid end to end without overlap.

    Recognisers stretch word times over the silence between two lines, so the words seem to
    touch and a cut at word pauses misses the line break; the voice activity map sees it.

    Every word is kept once, in order, with its text; a word is placed in the stretch of speech
    that holds most of it. Segments never overlap and stay within [0, duration_ms].
    """
    regions = speech_regions(speech, config.min_silence_ms)
    out: list[Segment] = []
    floor = 0
    for segment in segments:
        if not segment.words:
            continue
        seps = _separators(segment, language)
        keys = _place(segment.words, regions, config.snap_ms)
        for group in _groups(segment.words, keys):
            words: list[Word] = []
            for i in group:
                w = segment.words[i]
                start, end = w.start_ms, w.end_ms
                if keys[i] >= 0 and _distance(w, regions[keys[i]]) <= config.snap_ms:
                    lo, hi = regions[keys[i]]
                    lo, hi = lo - config.pad_start_ms, hi + config.pad_end_ms
                    start, end = min(max(start, lo), hi), min(max(end, lo), hi)
                start = max(start, floor, words[-1].start_ms if words else 0)
                end = max(end, start)
                if duration_ms is not None:
                    start, end = min(start, duration_ms), min(end, duration_ms)
                words.append(Word(start, end, w.text, w.confidence))
            text = words[0].text + "".join(seps[i] + segment.words[i].text for i in group[1:])
            end_ms = max(w.end_ms for w in words)
            out.append(Segment(words[0].start_ms, end_ms, text, tuple(words)))
            floor = end_ms
    return end_on_speech(out, speech, config.end_offset_ms, duration_ms)


def _last_run(word: Word, speech: Sequence[Interval], starts: Sequence[int]) -> int:
    """The latest stretch of speech the word overlaps, -1 when it overlaps none."""
    j = bisect_right(starts, word.end_ms - 1) - 1
    return j if j >= 0 and speech[j][1] > word.start_ms else -1


def end_on_speech(
    segments: Sequence[Segment],
    speech: Sequence[Interval],
    offset_ms: int,
    duration_ms: int | None = None,
) -> tuple[Segment, ...]:
    """Each segment ends where the stretch of speech under its last word ends, plus offset_ms,
    never past the next segment's start nor the audio's end, never at or before the last
    word's start. A segment whose last word overlaps no speech keeps its end.

    Whisper's word ends are loose: on generated episodes of the tuning range (docs/quality.md)
    a line's last word ends a median 105 ms (EN) before the line does, and 25 % of Japanese
    lines end over 70 ms after it, while the speech map's stretch ends a steady 50-80 ms after
    the voice. Starts are left alone: Whisper's are as close as the map's.
    """
    starts = [s for s, _e in speech]
    out = list(segments)
    for i, segment in enumerate(out):
        if not segment.words:
            continue
        last = segment.words[-1]
        k = _last_run(last, speech, starts)
        if k < 0:
            continue
        end = speech[k][1] + offset_ms
        if i + 1 < len(out):
            end = min(end, out[i + 1].start_ms)
        if duration_ms is not None:
            end = min(end, duration_ms)
        if end <= last.start_ms or end == last.end_ms:
            continue
        words = (*segment.words[:-1], Word(last.start_ms, end, last.text, last.confidence))
        out[i] = Segment(
            segment.start_ms, max(end, *(w.end_ms for w in words)), segment.text, words
        )
    return tuple(out)
