"""The map from a JA release's timeline to the EN release's: linear pieces (pure).

Within a piece, en = en_start + (ja - ja_start) * (en_end - en_start) / (ja_end - ja_start):
a constant offset, or with a speed ratio (a PAL release runs 25/23.976 fast). Stretches one
release has alone (an intro, a card inserted into the dub, a recap the dub cut) lie between or
around the pieces and map nowhere: `ja_only`, `en_only`. The media stage estimates the map;
separation, alignment and packaging read it; the sample generator writes the true one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Self

Stretch = tuple[int, int]
MAX_PIECES = 10_000


class TimeMapError(ValueError):
    """A time map that is not one: pieces out of order, empty, or not numbers."""


@dataclass(frozen=True)
class Piece:
    ja_start_ms: int
    ja_end_ms: int
    en_start_ms: int
    en_end_ms: int
    confidence: float = 1.0

    def __post_init__(self) -> None:
        if self.ja_end_ms <= self.ja_start_ms or self.en_end_ms <= self.en_start_ms:
            raise TimeMapError(f"a piece must have a positive length in both releases: {self}")

    @property
    def rate(self) -> Fraction:
        """EN ms per JA ms."""
        return Fraction(self.en_end_ms - self.en_start_ms, self.ja_end_ms - self.ja_start_ms)

    def to_en(self, ja_ms: float) -> float:
        return float(self.en_start_ms + (Fraction(ja_ms) - self.ja_start_ms) * self.rate)

    def to_ja(self, en_ms: float) -> float:
        return float(self.ja_start_ms + (Fraction(en_ms) - self.en_start_ms) / self.rate)

    def holds_ja(self, ja_ms: float) -> bool:
        return self.ja_start_ms <= ja_ms < self.ja_end_ms

    def holds_en(self, en_ms: float) -> bool:
        return self.en_start_ms <= en_ms < self.en_end_ms


@dataclass(frozen=True)
class TimeMap:
    """Pieces in time order (increasing in both releases), and the unmatched stretches."""

    pieces: tuple[Piece, ...]
    ja_only: tuple[Stretch, ...] = ()
    en_only: tuple[Stretch, ...] = ()

    def __post_init__(self) -> None:
        if not self.pieces:
            raise TimeMapError("a time map needs at least one piece")
        for a, b in pairwise(self.pieces):
            if b.ja_start_ms < a.ja_end_ms or b.en_start_ms < a.en_end_ms:
                raise TimeMapError(f"pieces must not overlap or run backwards: {a}, {b}")

    @property
    def constant_offset_ms(self) -> int | None:
        """JA = EN + this everywhere, when the map is one piece without a speed change."""
        if len(self.pieces) != 1 or self.pieces[0].rate != 1:
            return None
        return self.pieces[0].ja_start_ms - self.pieces[0].en_start_ms

    def piece_of_ja(self, ja_ms: float) -> int | None:
        """The index of the piece holding JA time ja_ms; None in a stretch EN lacks."""
        return next((i for i, p in enumerate(self.pieces) if p.holds_ja(ja_ms)), None)

    def piece_of_en(self, en_ms: float) -> int | None:
        """The index of the piece holding EN time en_ms; None in a stretch JA lacks."""
        return next((i for i, p in enumerate(self.pieces) if p.holds_en(en_ms)), None)

    def to_en(self, ja_ms: float) -> float | None:
        i = self.piece_of_ja(ja_ms)
        return None if i is None else self.pieces[i].to_en(ja_ms)

    def to_ja(self, en_ms: float) -> float | None:
        i = self.piece_of_en(en_ms)
        return None if i is None else self.pieces[i].to_ja(en_ms)

    def to_json(self, confidence: bool = True) -> dict[str, object]:
        """The map as JSON; confidence False leaves the pieces' confidences out (a true map)."""
        pieces: list[dict[str, object]] = []
        for p in self.pieces:
            piece: dict[str, object] = {k: getattr(p, k) for k in _PIECE_KEYS}
            if confidence:
                piece["confidence"] = round(p.confidence, 4)
            pieces.append(piece)
        return {
            "pieces": pieces,
            "ja_only": [list(s) for s in self.ja_only],
            "en_only": [list(s) for s in self.en_only],
        }

    @classmethod
    def from_json(cls, value: object, where: str = "time_map") -> Self:
        """A map from its JSON form; TimeMapError naming what is wrong."""
        if not isinstance(value, Mapping):
            raise TimeMapError(f"{where} must be an object")
        pieces = value.get("pieces")
        if not isinstance(pieces, Sequence) or not 0 < len(pieces) <= MAX_PIECES:
            raise TimeMapError(f"{where}.pieces must be a list of 1..{MAX_PIECES} pieces")
        out = []
        for i, p in enumerate(pieces):
            if not isinstance(p, Mapping):
                raise TimeMapError(f"{where}.pieces[{i}] must be an object")
            ends = [_int(p.get(k), f"{where}.pieces[{i}].{k}") for k in _PIECE_KEYS]
            confidence = p.get("confidence", 1.0)
            if not isinstance(confidence, (int, float)) or isinstance(confidence, bool):
                raise TimeMapError(f"{where}.pieces[{i}].confidence must be a number")
            ja0, ja1, en0, en1 = ends
            out.append(Piece(ja0, ja1, en0, en1, float(confidence)))
        return cls(
            tuple(out),
            _stretches(value.get("ja_only", []), f"{where}.ja_only"),
            _stretches(value.get("en_only", []), f"{where}.en_only"),
        )

    @classmethod
    def constant(cls, ja_offset_ms: int, ja_ms: int, en_ms: int) -> Self:
        """JA time = EN time + ja_offset_ms, over the time both releases have."""
        ja0, en0 = max(0, ja_offset_ms), max(0, -ja_offset_ms)
        length = min(ja_ms - ja0, en_ms - en0)
        if length <= 0:
            raise TimeMapError(f"an offset of {ja_offset_ms} ms leaves no common time")
        piece = Piece(ja0, ja0 + length, en0, en0 + length)
        ja_only = [s for s in ((0, ja0), (ja0 + length, ja_ms)) if s[1] > s[0]]
        en_only = [s for s in ((0, en0), (en0 + length, en_ms)) if s[1] > s[0]]
        return cls((piece,), tuple(ja_only), tuple(en_only))


_PIECE_KEYS = ("ja_start_ms", "ja_end_ms", "en_start_ms", "en_end_ms")


def _int(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TimeMapError(f"{where} must be an integer number of milliseconds")
    return value


def _stretches(value: object, where: str) -> tuple[Stretch, ...]:
    if not isinstance(value, Sequence) or len(value) > MAX_PIECES:
        raise TimeMapError(f"{where} must be a list of [start_ms, end_ms]")
    out = []
    for i, s in enumerate(value):
        if not isinstance(s, Sequence) or len(s) != 2:
            raise TimeMapError(f"{where}[{i}] must be [start_ms, end_ms]")
        out.append((_int(s[0], f"{where}[{i}]"), _int(s[1], f"{where}[{i}]")))
    return tuple(out)
