"""The report's subtitle timing rows: a subtitle-sourced transcript's segments against the truth."""

from __future__ import annotations

from dataclasses import dataclass

from dubset_eval.subtiming import RAW, TimingScore
from dubset_eval.tables import Table, millis, percent


@dataclass(frozen=True)
class SubtitleRow:
    """A subtitle-sourced transcript's segments of one kind (subtiming.KINDS, or RAW: the
    cues of the release's subtitle file cue_file) against the truth lines."""

    source: str
    language: str
    kind: str
    score: TimingScore
    cue_file: str | None = None


_KIND_CELLS = {"subtitle-aligned": "aligned", "subtitle-cue": "cue", RAW: "raw cues"}


def subtitle_cells(r: SubtitleRow) -> list[str]:
    s = r.score
    edges = (s.start_p50_ms, s.start_p95_ms, s.end_p50_ms, s.end_p95_ms)
    return [
        r.source,
        r.language,
        _KIND_CELLS.get(r.kind, r.kind),
        str(s.segments),
        str(s.matched),
        *map(millis, edges),
        percent(s.speaker_accuracy, 1),
    ]


SUBTITLE_TABLE = Table(
    "Subtitle timing (segment vs the truth line it overlaps most; |edge error| p50 and p95 in ms)",
    ("source", "lang", "times", "segs", "match", "start p50", "p95", "end p50", "p95", "speaker"),
    subtitle_cells,
)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def subtitle_json(r: SubtitleRow) -> dict[str, object]:
    s = r.score
    return {
        "source": r.source,
        "language": r.language,
        "segments": r.kind,
        "cue_file": r.cue_file,
        "n_segments": s.segments,
        "matched": s.matched,
        "start_p50_error_ms": _round(s.start_p50_ms),
        "start_p95_error_ms": _round(s.start_p95_ms),
        "end_p50_error_ms": _round(s.end_p50_ms),
        "end_p95_error_ms": _round(s.end_p95_ms),
        "edge_p50_error_ms": _round(s.edge_p50_ms),
        "edge_p95_error_ms": _round(s.edge_p95_ms),
        "speakers_named": s.named,
        "speakers_right": s.named_right,
        "speaker_accuracy": _round(s.speaker_accuracy),
    }
