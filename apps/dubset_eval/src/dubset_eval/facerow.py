"""The report's faces rows: the faces stage (faces.json) against the picture's truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dubset_eval.facescore import FacesScore, Rate
from dubset_eval.flaps import FlapScore
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


@dataclass(frozen=True)
class FlapRow:
    source: str  # the faces.json
    speech: str  # which speech: the JA original, the human EN dub, an automatic dub
    score: FlapScore


def _flap_cells(r: FlapRow) -> list[str]:
    s = r.score
    return [r.source, r.speech, str(s.clips), percent(s.speech_in_flaps, 1),
            percent(s.flaps_covered, 1)]  # fmt: skip


FLAPS_TABLE = Table(
    "Lip flaps (clips with a speaking face: the share of the speech while the mouth moves, "
    "and of the moving-mouth time with speech)",
    ("source", "speech", "clips", "speech in flaps", "flaps covered"),
    _flap_cells,
)


def flap_json(row: FlapRow) -> dict[str, object]:
    s = row.score
    return {"source": row.source, "speech": row.speech, "clips": s.clips,
            "speech_ms": s.speech_ms, "flap_ms": s.flap_ms, "overlap_ms": s.overlap_ms,
            "speech_in_flaps": s.speech_in_flaps, "flaps_covered": s.flaps_covered}  # fmt: skip
