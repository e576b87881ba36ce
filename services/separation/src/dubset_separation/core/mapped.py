"""The other language's track on this one's timeline, through a time map (dual-dub on an
edited release: a card inserted, a recap cut, a PAL speed-up)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.signal import resample_poly

from dubset_common.timemap import Piece, TimeMap
from dubset_separation.core.audio import Signal

PAD = 64  # samples read either side of a resampled stretch (filter edges)


class Readable(Protocol):
    """A track read by sample ranges at a rate (an AudioSource, or one derived from it)."""

    @property
    def rate(self) -> int: ...

    def read(self, start: int, stop: int, rate: int | None = None) -> Signal: ...


class Mapped(Protocol):
    """A track read on another's timeline, with where it has the moment."""

    def read(self, start: int, stop: int, rate: int) -> Signal: ...

    def covered(self, start: int, stop: int, rate: int) -> NDArray[np.bool_]: ...


class MappedTrack:
    """Reads `other` (a JA or EN track) at the sample times of `own` (the other language),
    following the map; silent, and not covered, where the other release lacks the moment."""

    def __init__(self, other: Readable, time_map: TimeMap, own: str) -> None:
        self.other, self.map, self.own = other, time_map, own

    def _spans(self, piece: Piece) -> tuple[tuple[int, int], tuple[int, int], Fraction]:
        """(own ms span, other ms span, other ms per own ms) of a piece."""
        ja, en = (piece.ja_start_ms, piece.ja_end_ms), (piece.en_start_ms, piece.en_end_ms)
        if self.own == "ja":
            return ja, en, piece.rate
        return en, ja, 1 / piece.rate

    def _piece_ranges(
        self, start: int, stop: int, rate: int
    ) -> Iterator[tuple[int, int, float, Fraction]]:
        """(own sample lo, hi, other sample at lo, ratio) of each piece within [start, stop)."""
        for piece in self.map.pieces:
            own, other, ratio = self._spans(piece)
            lo = max(start, math.ceil(own[0] * rate / 1000))
            hi = min(stop, math.ceil(own[1] * rate / 1000))
            if hi > lo:
                at = other[0] * rate / 1000 + (lo - own[0] * rate / 1000) * float(ratio)
                yield lo, hi, at, ratio

    def read(self, start: int, stop: int, rate: int) -> Signal:
        out = np.zeros(max(0, stop - start))
        for lo, hi, at, ratio in self._piece_ranges(start, stop, rate):
            n = hi - lo
            if ratio == 1:
                first = round(at)
                out[lo - start : hi - start] = self.other.read(first, first + n, rate)
                continue
            first = math.floor(at)
            span = math.ceil(n * ratio) + 1
            raw = self.other.read(first - PAD, first + span + PAD, rate)
            # Other-release samples to own-release samples: stretch by 1/ratio.
            y = np.asarray(resample_poly(raw, ratio.denominator, ratio.numerator))
            skip = round((PAD + at - first) / float(ratio))
            piece = y[skip : skip + n]
            out[lo - start : lo - start + len(piece)] = piece
        return out

    def covered(self, start: int, stop: int, rate: int) -> NDArray[np.bool_]:
        mask = np.zeros(max(0, stop - start), dtype=bool)
        for lo, hi, _at, _ratio in self._piece_ranges(start, stop, rate):
            mask[lo - start : hi - start] = True
        return mask

    def longest(self, rate: int) -> tuple[int, int]:
        """The own-sample span of the longest piece (where the two tracks are fitted)."""
        spans = [self._spans(p)[0] for p in self.map.pieces]
        a, b = max(spans, key=lambda s: s[1] - s[0])
        return math.ceil(a * rate / 1000), b * rate // 1000
