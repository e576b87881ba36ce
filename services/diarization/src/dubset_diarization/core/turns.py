"""Per-window speaker labels → speaker turns with ids by first appearance."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from dubset_diarization.core.model import SAMPLE_RATE, Turn
from dubset_diarization.core.windows import Window


@dataclass(frozen=True)
class TurnConfig:
    """Pieces shorter than min_turn_ms join a neighbour. (Cutting a speaker change in the
    longest pause between the two window centres, instead of midway, measured worse on the
    generated episodes: pauses inside a line are often longer than the gap between lines.)"""

    min_turn_ms: int = 400


def smooth(labels: Sequence[int], regions_of: Sequence[int]) -> list[int]:
    """A lone window whose two neighbours in the same region agree takes their label."""
    out = list(labels)
    for i in range(1, len(out) - 1):
        same_region = regions_of[i - 1] == regions_of[i] == regions_of[i + 1]
        if same_region and labels[i - 1] == labels[i + 1] != labels[i]:
            out[i] = labels[i - 1]
    return out


def _pieces(
    region: tuple[int, int], windows: list[tuple[int, int]], min_len: int
) -> list[list[int]]:
    """[start, end, label] pieces of one region; cuts midway between differing window centres."""
    pieces: list[list[int]] = []
    start = region[0]
    for (c0, l0), (c1, l1) in itertools.pairwise(windows):
        if l0 != l1:
            cut = min(max((c0 + c1) // 2, region[0]), region[1])
            pieces.append([start, cut, l0])
            start = cut
    pieces.append([start, region[1], windows[-1][1]])
    while len(pieces) > 1:
        lengths = [p[1] - p[0] for p in pieces]
        i = min(range(len(pieces)), key=lambda j: (lengths[j], j))
        if lengths[i] >= min_len:
            break
        if i == 0 or (i + 1 < len(pieces) and lengths[i + 1] > lengths[i - 1]):
            pieces[i + 1][0] = pieces[i][0]
        else:
            pieces[i - 1][1] = pieces[i][1]
        del pieces[i]
        merged: list[list[int]] = []
        for p in pieces:
            if merged and merged[-1][2] == p[2]:
                merged[-1][1] = p[1]
            else:
                merged.append(p)
        pieces = merged
    return pieces


def to_ms(samples: int, *, up: bool = False) -> int:
    per_ms = SAMPLE_RATE // 1000
    return -(-samples // per_ms) if up else samples // per_ms


def build_turns(
    regions: Sequence[tuple[int, int]],
    windows: Sequence[Window],
    labels: Sequence[int],
    config: TurnConfig = TurnConfig(),
) -> list[Turn]:
    """Turns in time order; touching same-speaker pieces merge; ids SPEAKER_00.. by first use."""
    by_region: dict[int, list[tuple[int, int]]] = {}
    for w, label in zip(windows, labels, strict=True):
        by_region.setdefault(w.region, []).append((w.centre, int(label)))
    min_len = config.min_turn_ms * (SAMPLE_RATE // 1000)
    raw: list[list[int]] = []
    for r, region in enumerate(regions):
        if r not in by_region:
            continue
        for piece in _pieces(region, sorted(by_region[r]), min_len):
            if raw and raw[-1][2] == piece[2] and raw[-1][1] >= piece[0]:
                raw[-1][1] = piece[1]
            else:
                raw.append(piece)
    names: dict[int, str] = {}
    turns: list[Turn] = []
    for s, e, label in raw:
        name = names.setdefault(label, f"SPEAKER_{len(names):02d}")
        start, end = to_ms(s), to_ms(e, up=True)
        if end > start:
            turns.append(Turn(start, end, name))
    return turns


def renumber(turns: Sequence[Turn]) -> list[Turn]:
    """Any backend's turns, sorted, with ids SPEAKER_00.. by first appearance."""
    names: dict[str, str] = {}
    out: list[Turn] = []
    for t in sorted(turns, key=lambda t: (t.start_ms, t.end_ms, t.speaker)):
        if t.end_ms <= t.start_ms:
            continue
        name = names.setdefault(t.speaker, f"SPEAKER_{len(names):02d}")
        out.append(Turn(t.start_ms, t.end_ms, name))
    return out
