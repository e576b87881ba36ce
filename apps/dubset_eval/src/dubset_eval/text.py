"""Text normalisation and edit-distance error rates: WER for English, CER for Japanese."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_IRREGULAR = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_DIGIT_GROUP_COMMA = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DECIMAL = re.compile(r"(\d+)\.(\d+)")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_INTEGER = re.compile(r"\d+")
_APOSTROPHE = re.compile(r"['\u2019\u02bc]")
_NOT_WORD = re.compile(r"[^\w\s]|_")


@dataclass(frozen=True)
class ErrorRate:
    """Edit counts of a hypothesis against a reference of n_ref tokens (words or characters)."""

    n_ref: int
    n_hyp: int
    substitutions: int
    deletions: int
    insertions: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float | None:
        """errors / n_ref; undefined (None) for an empty reference."""
        return self.errors / self.n_ref if self.n_ref else None


def number_words(n: int) -> str:
    """Cardinal English words of a non-negative integer: 21 -> "twenty one"."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    for scale, name in _SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            return f"{number_words(high)} {name}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError("unreachable")


def _ordinal_words(n: int) -> str:
    head, _, last = number_words(n).rpartition(" ")
    if last in _ORDINAL_IRREGULAR:
        last = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head} {last}" if head else last


def _digits(s: str) -> str:
    return " ".join(_ONES[int(c)] for c in s)


def _integer(s: str) -> str:
    # Codes like "007" and numbers past trillions are read digit by digit.
    if (len(s) > 1 and s[0] == "0") or len(s) > 15:
        return _digits(s)
    return number_words(int(s))


def normalise_en(text: str) -> list[str]:
    """Words of English text: NFKC, lower case, numbers as words, punctuation removed."""
    s = unicodedata.normalize("NFKC", text).lower()
    s = _DIGIT_GROUP_COMMA.sub("", s)
    s = s.replace("%", " percent ").replace("&", " and ")
    s = _DECIMAL.sub(lambda m: f" {_integer(m[1])} point {_digits(m[2])} ", s)
    s = _ORDINAL.sub(lambda m: f" {_ordinal_words(int(m[1]))} ", s)
    s = _INTEGER.sub(lambda m: f" {_integer(m[0])} ", s)
    s = _APOSTROPHE.sub("", s)
    return _NOT_WORD.sub(" ", s).split()


def normalise_ja(text: str) -> list[str]:
    """Characters of Japanese text: NFKC, case-folded, punctuation, symbols and spaces removed."""
    s = unicodedata.normalize("NFKC", text).casefold()
    return [c for c in s if unicodedata.category(c)[0] not in "PSZC"]


def edit_counts(ref: Sequence[str], hyp: Sequence[str]) -> ErrorRate:
    """Levenshtein alignment counts; among minimal alignments, the one with most substitutions.

    Row-by-row dynamic programme on numpy vectors: each cell holds big*errors - substitutions,
    so one minimum orders by errors, then by substitutions; insertions along a row are a
    running minimum. Deletions and insertions follow from errors, substitutions and lengths.
    """
    n, m = len(ref), len(hyp)
    if n == 0 or m == 0:
        return ErrorRate(n, m, 0, n, m)
    if n < m:
        ref, hyp, n, m = hyp, ref, m, n
        swapped = True
    else:
        swapped = False
    vocab: dict[str, int] = {}
    r = np.array([vocab.setdefault(t, len(vocab)) for t in ref], dtype=np.int64)
    h = np.array([vocab.setdefault(t, len(vocab)) for t in hyp], dtype=np.int64)
    big = n + m + 1
    cols = np.arange(m + 1, dtype=np.int64) * big
    prev = cols.copy()
    tmp = np.empty(m + 1, dtype=np.int64)
    for i in range(n):
        tmp[0] = prev[0] + big
        np.minimum(prev[:-1] + np.where(h == r[i], 0, big - 1), prev[1:] + big, out=tmp[1:])
        prev = np.minimum.accumulate(tmp - cols) + cols
    key = int(prev[m])
    errors = -(-key // big)
    subs = big * errors - key
    deletions = (errors - subs + n - m) // 2
    insertions = errors - subs - deletions
    if swapped:
        n, m, deletions, insertions = m, n, insertions, deletions
    return ErrorRate(n, m, subs, deletions, insertions)


def wer(ref: str, hyp: str) -> ErrorRate:
    """Word error counts of English text after normalise_en."""
    return edit_counts(normalise_en(ref), normalise_en(hyp))


def cer(ref: str, hyp: str) -> ErrorRate:
    """Character error counts of Japanese text after normalise_ja."""
    return edit_counts(normalise_ja(ref), normalise_ja(hyp))
