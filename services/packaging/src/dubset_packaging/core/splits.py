"""Train/val/test by show name: deterministic, every season of a show in one split."""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Sequence

from dubset_common.errors import InvalidInputError

SPLITS = ("train", "val", "test")
DEFAULT_RATIOS = (0.8, 0.1, 0.1)


class SplitError(InvalidInputError):
    """Split ratios that cannot be used."""


def check_ratios(ratios: Sequence[float]) -> tuple[float, float, float]:
    """The ratios normalized to sum 1; three finite non-negative numbers with a positive sum."""
    if len(ratios) != len(SPLITS):
        raise SplitError(f"give three split ratios (train, val, test), not {len(ratios)}")
    values = []
    for name, r in zip(SPLITS, ratios, strict=True):
        if isinstance(r, bool) or not isinstance(r, int | float) or not math.isfinite(r):
            raise SplitError(f"the {name} ratio must be a finite number, not {r!r:.40}")
        if r < 0:
            raise SplitError(f"the {name} ratio must not be negative ({r})")
        values.append(float(r))
    total = sum(values)
    if total <= 0:
        raise SplitError("the split ratios must not all be zero")
    train, val, test = (v / total for v in values)
    return train, val, test


def parse_ratios(text: str) -> tuple[float, float, float]:
    """ "0.8,0.1,0.1" (or "8,1,1") as normalized ratios."""
    parts = [p.strip() for p in text.split(",")]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise SplitError(
            f"split ratios must be three numbers like 0.8,0.1,0.1, not {text!r:.60}"
        ) from None
    return check_ratios(numbers)


def show_key(show_name: str) -> str:
    """The form of a show name that decides its split: NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", show_name).casefold().split())


def unit_of(show_name: str) -> float:
    """A uniform number in [0, 1) from sha256 of the show key."""
    digest = hashlib.sha256(show_key(show_name).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def split_of(show_name: str, ratios: Sequence[float] = DEFAULT_RATIOS) -> str:
    """ "train", "val" or "test" for a show, the same on every run and machine."""
    u = unit_of(show_name)
    cumulative = 0.0
    chosen = ""
    for name, ratio in zip(SPLITS, check_ratios(ratios), strict=True):
        if ratio <= 0:
            continue  # a split with no share never receives a show, even at rounding edges
        chosen = name
        cumulative += ratio
        if u < cumulative:
            return name
    return chosen
