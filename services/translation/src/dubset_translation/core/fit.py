"""How long English takes to say: syllables at a speech rate (dubbing speaks about 5 a second).

A syllable count is a vowel-group count per word with the usual English corrections (a silent
final e, -le, -es/-ed endings); numbers count their spoken words. It is an estimate of the
TTS stage's length, good to about 15 %, which is what deciding "ask for a shorter line" needs.
"""

from __future__ import annotations

import re

DEFAULT_RATE = 5.0  # syllables per second
_WORD = re.compile(r"[A-Za-z']+|\d+")
_VOWELS = re.compile(r"[aeiouy]+")
PAUSE_MS = 120  # per sentence break inside a line


def word_syllables(word: str) -> int:
    if word.isdigit():
        return 2 * len(word)  # "seven", "twenty", "forty-two": about two per digit
    w = word.lower().strip("'")
    if not w:
        return 0
    groups = len(_VOWELS.findall(w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and groups > 1:
        groups -= 1
    if w.endswith(("es", "ed")) and not w.endswith(("ted", "ded", "ses", "zes", "ches", "shes")):
        groups -= 1 if groups > 1 else 0
    return max(1, groups)


def syllables(text: str) -> int:
    return sum(word_syllables(w) for w in _WORD.findall(text))


def spoken_ms(text: str, rate: float = DEFAULT_RATE) -> int:
    """Estimated ms to say text at rate syllables per second, sentence pauses included."""
    breaks = len(re.findall(r"[.!?]\s+\S", text.strip()))
    return round(1000 * syllables(text) / rate) + PAUSE_MS * breaks


def max_syllables(budget_ms: int, rate: float = DEFAULT_RATE) -> int:
    """The most syllables that fit budget_ms at rate (at least 1)."""
    return max(1, int(budget_ms / 1000 * rate))
