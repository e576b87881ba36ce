"""The true map from a JA release's timeline to the EN release's (pure): linear pieces.

Within a piece, en = en_start + (ja - ja_start) * (en_end - en_start) / (ja_end - ja_start).
Stretches of one release that the other lacks (an intro only one release has, a distributor
card inserted into the EN release) are listed in `ja_only` / `en_only` and map nowhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from dubset_common import timemap as common
from dubset_common.timemap import Piece

__all__ = ["Piece", "TimeMap", "apply_map", "inverse_map"]


@dataclass(frozen=True)
class TimeMap(common.TimeMap):
    """dubset_common's map with what the generator does to it (an intro, a card inserted, a
    speed-up) and the truth's reading of it (ends inclusive, the later piece at a cut)."""

    @classmethod
    def plain(cls, ja_offset_ms: int, program_ms: int) -> TimeMap:
        """Two releases of one program whose intros differ: JA time = EN time + ja_offset_ms.
        The longer intro (the first |ja_offset_ms| of that release) exists in it alone."""
        ja0, en0 = max(0, ja_offset_ms), max(0, -ja_offset_ms)
        piece = Piece(ja0, ja0 + program_ms, en0, en0 + program_ms)
        return cls((piece,), ((0, ja0),) if ja0 else (), ((0, en0),) if en0 else ())

    def apply_map(self, ja_ms: float, *, extrapolate: bool = False) -> float | None:
        """The EN time of JA time ja_ms; None where the EN release lacks that moment (a
        ja_only stretch, or outside every piece) unless extrapolate uses the nearest piece."""
        for piece in reversed(self.pieces):  # at a cut, the moment after it
            if piece.ja_start_ms <= ja_ms <= piece.ja_end_ms:
                return piece.to_en(ja_ms)
        if not extrapolate:
            return None
        return _nearest(self.pieces, ja_ms, lambda p: (p.ja_start_ms, p.ja_end_ms)).to_en(ja_ms)

    def inverse_map(self, en_ms: float, *, extrapolate: bool = False) -> float | None:
        """The JA time of EN time en_ms; None in an en_only stretch (e.g. the card) or outside
        every piece, unless extrapolate uses the nearest piece."""
        for piece in reversed(self.pieces):
            if piece.en_start_ms <= en_ms <= piece.en_end_ms:
                return piece.to_ja(en_ms)
        if not extrapolate:
            return None
        return _nearest(self.pieces, en_ms, lambda p: (p.en_start_ms, p.en_end_ms)).to_ja(en_ms)

    def insert_en(self, at_en_ms: int, length_ms: int) -> TimeMap:
        """The map after length_ms of EN-only material is inserted at EN time at_en_ms."""
        if length_ms <= 0:
            raise ValueError("an insertion needs a positive length")
        pieces: list[Piece] = []
        for p in self.pieces:
            if p.en_end_ms <= at_en_ms:
                pieces.append(p)
            elif p.en_start_ms >= at_en_ms:
                pieces.append(_shift_en(p, length_ms))
            else:
                ja_cut = _round(p.ja_start_ms + (at_en_ms - p.en_start_ms) / p.rate)
                pieces.append(Piece(p.ja_start_ms, ja_cut, p.en_start_ms, at_en_ms))
                pieces.append(
                    Piece(ja_cut, p.ja_end_ms, at_en_ms + length_ms, p.en_end_ms + length_ms)
                )
        en_only = [
            (a + length_ms, b + length_ms) if a >= at_en_ms else (a, b) for a, b in self.en_only
        ]
        en_only.append((at_en_ms, at_en_ms + length_ms))
        return replace(self, pieces=tuple(pieces), en_only=tuple(sorted(en_only)))

    def scale_en(self, factor: Fraction) -> TimeMap:
        """The map after the whole EN release is played factor times as long (a PAL speed-up
        is factor 24000/1001/25); EN times round to whole ms."""
        pieces = tuple(
            replace(
                p, en_start_ms=_scale(p.en_start_ms, factor), en_end_ms=_scale(p.en_end_ms, factor)
            )
            for p in self.pieces
        )
        en_only = tuple((_scale(a, factor), _scale(b, factor)) for a, b in self.en_only)
        return replace(self, pieces=pieces, en_only=en_only)

    def to_json(self, confidence: bool = False) -> dict[str, object]:
        """The true map as truth.json holds it (no confidences)."""
        return super().to_json(confidence)

    @classmethod
    def from_truth(cls, truth: Mapping[str, object]) -> TimeMap:
        """A truth.json's time map: its `time_map`, else (a plain release, written before the
        field existed or without --shape) the constant offset over the program."""
        value = truth.get("time_map")
        if isinstance(value, Mapping):
            return cls.from_json(value)
        offset = truth.get("ja_offset_ms", 0)
        durations = truth["duration_ms"]
        assert isinstance(offset, int) and isinstance(durations, Mapping)
        program = min(int(durations["ja"]) - max(0, offset), int(durations["en"]) - max(0, -offset))
        return cls.plain(offset, program)


def apply_map(time_map: TimeMap, ja_ms: float, *, extrapolate: bool = False) -> float | None:
    """JA time to EN time through time_map (see TimeMap.apply_map)."""
    return time_map.apply_map(ja_ms, extrapolate=extrapolate)


def inverse_map(time_map: TimeMap, en_ms: float, *, extrapolate: bool = False) -> float | None:
    """EN time to JA time through time_map (see TimeMap.inverse_map)."""
    return time_map.inverse_map(en_ms, extrapolate=extrapolate)


def _scale(ms: int, factor: Fraction) -> int:
    return _round(ms * factor)


def _round(value: Fraction) -> int:
    """Halves up, as frames.frame_at rounds."""
    return int((value + Fraction(1, 2)) // 1)


def _shift_en(p: Piece, ms: int) -> Piece:
    return replace(p, en_start_ms=p.en_start_ms + ms, en_end_ms=p.en_end_ms + ms)


def _nearest(pieces: Sequence[Piece], ms: float, span: Callable[[Piece], tuple[int, int]]) -> Piece:
    def distance(p: Piece) -> float:
        a, b = span(p)
        return max(a - ms, ms - b, 0.0)

    return min(pieces, key=distance)
