"""The report's faces rows: the faces stage (faces.json) against the picture's truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dubset_eval.facescore import FacesScore, Rate
from dubset_eval.tables import Table, percent


@dataclass(frozen=True)
class FacesRow:
    source: str
    score: FacesScore


def _cells(r: FacesRow) -> list[str]:
    s = r.score
    return [
        r.source,
        percent(s.shot_f1, 1),
        percent(s.shot_precision.rate, 1),
        percent(s.shot_recall.rate, 1),
        percent(s.face_precision.rate, 1),
        percent(s.face_recall.rate, 1),
        percent(s.clip_precision.rate, 1),
        percent(s.clip_recall.rate, 1),
        f"{s.clips}/{s.truth_clips}",
        percent(s.speaking.rate, 1),
        percent(s.offscreen.rate, 1),
    ]


FACES_TABLE = Table(
    "Faces (shots +-2 frames; face boxes per frame at IoU 0.5; face-clip frames vs the "
    "paper's rules on the truth; clips found/truth runs; speaker: the speaking face named in "
    "clips with a visible speaker, off: clips without one marked so)",
    (
        "source",
        "shot F1",
        "shot P",
        "shot R",
        "face P",
        "face R",
        "clip P",
        "clip R",
        "clips",
        "speaker",
        "off",
    ),
    _cells,
)


def faces_lines(rows: Sequence[FacesRow]) -> list[str]:
    return FACES_TABLE.lines(rows)


def _rate(r: Rate) -> dict[str, object]:
    return {"hits": r.hits, "total": r.total, "rate": r.rate}


def faces_json(row: FacesRow) -> dict[str, object]:
    s = row.score
    return {
        "source": row.source,
        "shot_f1": s.shot_f1,
        "shot_precision": _rate(s.shot_precision),
        "shot_recall": _rate(s.shot_recall),
        "face_precision": _rate(s.face_precision),
        "face_recall": _rate(s.face_recall),
        "clip_precision": _rate(s.clip_precision),
        "clip_recall": _rate(s.clip_recall),
        "clips": s.clips,
        "truth_clips": s.truth_clips,
        "speaking": _rate(s.speaking),
        "offscreen": _rate(s.offscreen),
    }
