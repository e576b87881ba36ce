"""The per-clip signals that need no model: overlap, confidence, agreement, ratio, levels."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import Levenshtein

from dubset_quality.core.model import Turn, Word

FloatArray = npt.NDArray[np.float32]
SILENT_DB = -100.0  # the level of digital silence (a floor, so a ratio of levels stays finite)


def overlap_share(turns: Sequence[Turn], start_ms: int, end_ms: int) -> float:
    """The share of [start_ms, end_ms) in which two or more diarized speakers talk at once."""
    if end_ms <= start_ms:
        return 0.0
    events: list[tuple[int, int, str]] = []
    for t in turns:
        a, b = max(t.start_ms, start_ms), min(t.end_ms, end_ms)
        if a < b:
            events += [(a, 1, t.speaker), (b, -1, t.speaker)]
    events.sort(key=lambda e: (e[0], e[1]))  # ends before starts at the same instant
    active: dict[str, int] = {}
    overlapped, last = 0, start_ms
    for at, step, speaker in events:
        if sum(1 for n in active.values() if n > 0) >= 2:
            overlapped += at - last
        last = at
        active[speaker] = active.get(speaker, 0) + step
    return overlapped / (end_ms - start_ms)


def mean_confidence(words: Sequence[Word], start_ms: int, end_ms: int) -> float | None:
    """The mean confidence of the recognised words whose middle lies in the span (None when the
    span holds no word: nothing was recognised there)."""
    inside = [w.confidence for w in words if start_ms <= (w.start_ms + w.end_ms) // 2 < end_ms]
    return sum(inside) / len(inside) if inside else None


def tokens(text: str, language: str) -> list[str]:
    """English words or Japanese characters: NFKC, case-folded, punctuation and symbols out."""
    s = unicodedata.normalize("NFKC", text).casefold()
    if language == "ja":
        return [c for c in s if unicodedata.category(c)[0] not in "PSZC"]
    kept = "".join(c if unicodedata.category(c)[0] not in "PSC" or c == "'" else " " for c in s)
    return kept.replace("'", "").split()


def agreement(reference: str, hypothesis: str, language: str) -> float | None:
    """1 - the error rate (WER for English, CER for Japanese) of a second recognition against
    the clip's text, floored at 0; None when the clip has no text to compare."""
    ref, hyp = tokens(reference, language), tokens(hypothesis, language)
    if not ref:
        return None
    errors = Levenshtein.distance(ref, hyp)
    return max(0.0, 1.0 - errors / len(ref))


def duration_ratio(ja_ms: int, en_ms: int) -> float:
    """JA duration over EN duration (a dub line runs about as long as the original)."""
    if ja_ms <= 0 or en_ms <= 0:
        raise ValueError(f"clip durations must be positive ({ja_ms} ms, {en_ms} ms)")
    return ja_ms / en_ms


def level_db(samples: FloatArray) -> float:
    """RMS level in dBFS, floored at SILENT_DB."""
    if samples.size == 0:
        return SILENT_DB
    power = float(np.mean(np.square(samples, dtype=np.float64)))
    return max(SILENT_DB, 10.0 * math.log10(power)) if power > 0 else SILENT_DB


def music_db(dialogue: FloatArray, backing: FloatArray) -> float:
    """How loud the backing track (music and effects) is under the dialogue: backing level
    minus dialogue level, dB. Above 0 the music is louder than the voice."""
    return level_db(backing) - level_db(dialogue)
