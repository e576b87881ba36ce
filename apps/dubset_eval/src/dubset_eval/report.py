"""The report of one evaluation: typed rows, a plain-text table and a JSON value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dubset_eval.clips import ClipScore
from dubset_eval.completeness import Completeness
from dubset_eval.der import DerScore
from dubset_eval.dubrow import DubRow, dub_json, dub_lines
from dubset_eval.facerow import FLAPS_TABLE, FacesRow, FlapRow, faces_json, faces_lines, flap_json
from dubset_eval.qualityscore import QualityRow, quality_json, quality_lines
from dubset_eval.subreport import SUBTITLE_TABLE, SubtitleRow, subtitle_json
from dubset_eval.tables import Table, decibels, millis, percent, seconds, short_source
from dubset_eval.text import ErrorRate
from dubset_eval.timemaps import MapScore

__all__ = [
    "AsrRow",
    "ClipsRow",
    "CompletenessRow",
    "DiarizationRow",
    "DubRow",
    "FacesRow",
    "OffsetRow",
    "Report",
    "SeparationRow",
    "SubtitleRow",
    "short_source",
    "to_json",
    "to_text",
]


@dataclass(frozen=True)
class AsrRow:
    source: str
    language: str
    metric: str
    counts: ErrorRate


@dataclass(frozen=True)
class DiarizationRow:
    source: str
    language: str
    score: DerScore


@dataclass(frozen=True)
class SeparationRow:
    source: str
    language: str
    stem: str
    seconds: float
    si_sdr_db: float | None
    mixture_si_sdr_db: float | None

    @property
    def improvement_db(self) -> float | None:
        if self.si_sdr_db is None or self.mixture_si_sdr_db is None:
            return None
        return self.si_sdr_db - self.mixture_si_sdr_db


@dataclass(frozen=True)
class ClipsRow:
    source: str
    score: ClipScore


@dataclass(frozen=True)
class OffsetRow:
    source: str
    result_ms: int
    truth_ms: int
    time_map: MapScore | None = None

    @property
    def error_ms(self) -> int:
        return abs(self.result_ms - self.truth_ms)


@dataclass(frozen=True)
class CompletenessRow:
    source: str
    result: Completeness


@dataclass(frozen=True)
class Report:
    truth: str
    episode_id: str
    result: str
    asr: tuple[AsrRow, ...] = ()
    subtitles: tuple[SubtitleRow, ...] = ()  # more on ASR results already counted in asr
    diarization: tuple[DiarizationRow, ...] = ()
    separation: tuple[SeparationRow, ...] = ()
    clips: tuple[ClipsRow, ...] = ()
    offsets: tuple[OffsetRow, ...] = ()
    completeness: tuple[CompletenessRow, ...] = ()
    dub: tuple[DubRow, ...] = ()
    faces: tuple[FacesRow, ...] = ()
    flaps: tuple[FlapRow, ...] = ()
    quality: tuple[QualityRow, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    ignored: int = 0

    @property
    def scored(self) -> int:
        """How many results were scored or checked."""
        return sum(
            len(rows)
            for rows in (
                self.asr,
                self.diarization,
                self.separation,
                self.clips,
                self.offsets,
                self.completeness,
                self.dub,
                self.faces,
                self.quality,
            )
        )

    @property
    def defects(self) -> int:
        """Missing, corrupt, unlisted or invalid files, and malformed result files."""
        return sum(r.result.defects for r in self.completeness) + len(self.problems)


MAX_LISTED_PATHS = 20  # per kind of defect and manifest in the text report


def _asr_cells(r: AsrRow) -> list[str]:
    c = r.counts
    counts = (c.n_ref, c.n_hyp, c.substitutions, c.deletions, c.insertions)
    return [r.source, r.language, r.metric, percent(c.rate), *map(str, counts)]


def _diarization_cells(r: DiarizationRow) -> list[str]:
    s = r.score
    times = (s.miss_ms, s.false_alarm_ms, s.confusion_ms, s.reference_ms)
    return [
        r.source,
        r.language,
        percent(s.der),
        *map(seconds, times),
        f"{s.hyp_speakers}/{s.ref_speakers}",
        f"{s.speaker_count_error:+d}",
    ]


def _separation_cells(r: SeparationRow) -> list[str]:
    levels = (r.si_sdr_db, r.mixture_si_sdr_db, r.improvement_db)
    return [r.source, r.language, r.stem, f"{r.seconds:.1f}", *map(decibels, levels)]


def _clips_cells(r: ClipsRow) -> list[str]:
    s = r.score
    errors = (s.median_boundary_error_ms, s.p95_boundary_error_ms, s.median_offset_error_ms)
    return [
        r.source,
        *map(str, (s.n_truth, s.n_result, s.matched)),
        *(percent(x, 1) for x in (s.precision, s.recall, s.f1)),
        *map(millis, errors),
    ]


def _offset_cells(r: OffsetRow) -> list[str]:
    m = r.time_map
    maps = ["-"] * 4 if m is None else [str(m.pieces), millis(m.p50_ms), millis(m.p95_ms)]
    if m is not None:
        maps.append(percent(m.coverage, 1))
    return [r.source, str(r.result_ms), str(r.truth_ms), str(r.error_ms), *maps]


def _completeness_cells(r: CompletenessRow) -> list[str]:
    c = r.result
    defects = (c.missing, c.corrupt, c.unlisted, c.invalid)
    return [r.source, str(c.listed), *(str(len(paths)) for paths in defects)]


ASR_TABLE = Table(
    "ASR (WER for en, CER for ja)",
    ("source", "lang", "metric", "rate", "ref", "hyp", "sub", "del", "ins"),
    _asr_cells,
)
DIARIZATION_TABLE = Table(
    "Diarization (DER, collar 0.25 s, overlap scored; times in s)",
    ("source", "lang", "DER", "miss", "fa", "conf", "ref speech", "spk hyp/ref", "spk err"),
    _diarization_cells,
)
SEPARATION_TABLE = Table(
    "Separation (SI-SDR in dB against the clean stem)",
    ("source", "lang", "stem", "seconds", "SI-SDR", "mixture", "improvement"),
    _separation_cells,
)
CLIPS_TABLE = Table(
    "Clips (one-to-one, IoU >= 0.5 in both languages; boundary and offset errors in ms)",
    ("source", "truth", "result", "match", "P", "R", "F1", "median", "p95", "offset"),
    _clips_cells,
)
OFFSET_TABLE = Table(
    "Offset (ja_offset_ms) and time map (EN time error over JA time, every 100 ms)",
    ("source", "result", "truth", "error", "pieces", "map p50", "map p95", "covered"),
    _offset_cells,
)
COMPLETENESS_TABLE = Table(
    "Completeness",
    ("source", "listed", "missing", "corrupt", "unlisted", "invalid"),
    _completeness_cells,
)


def _defect_lines(row: CompletenessRow) -> list[str]:
    """The first MAX_LISTED_PATHS paths of each kind of defect, then how many more there are."""
    c = row.result
    out: list[str] = []
    for what, paths in (
        ("missing", c.missing),
        ("corrupt", c.corrupt),
        ("unlisted", c.unlisted),
        ("invalid", c.invalid),
    ):
        out += [f"  {what}: {row.source}: {p}" for p in paths[:MAX_LISTED_PATHS]]
        if len(paths) > MAX_LISTED_PATHS:
            out.append(f"  {what}: {row.source}: ... and {len(paths) - MAX_LISTED_PATHS} more")
    return out


def _completeness_lines(rows: Sequence[CompletenessRow]) -> list[str]:
    """The completeness table, then the defective paths (and a blank line if there are any)."""
    if not rows:
        return []
    out = COMPLETENESS_TABLE.lines(rows)
    for r in rows:
        out += _defect_lines(r)
    if any(r.result.defects for r in rows):
        out.append("")
    return out


def _problem_lines(problems: Sequence[str]) -> list[str]:
    return ["Problems", *(f"  {p}" for p in problems), ""] if problems else []


def to_text(report: Report) -> str:
    """The report as aligned plain-text tables, one per kind of result found."""
    out = [f"truth {report.truth} (episode {report.episode_id})", f"result {report.result}", ""]
    out += ASR_TABLE.lines(report.asr)
    out += SUBTITLE_TABLE.lines(report.subtitles)
    out += DIARIZATION_TABLE.lines(report.diarization)
    out += SEPARATION_TABLE.lines(report.separation)
    out += CLIPS_TABLE.lines(report.clips)
    out += OFFSET_TABLE.lines(report.offsets)
    out += dub_lines(report.dub)
    out += faces_lines(report.faces)
    out += FLAPS_TABLE.lines(report.flaps)
    out += quality_lines(report.quality)
    out += _completeness_lines(report.completeness)
    out += _problem_lines(report.problems)
    out += [f"note: {n}" for n in report.notes]
    out.append(
        f"{report.scored} results scored, {report.ignored} files ignored, {report.defects} defects"
    )
    return "\n".join(out) + "\n"


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _asr_json(r: AsrRow) -> dict[str, object]:
    return {
        "source": r.source,
        "language": r.language,
        "metric": r.metric,
        "rate": _r(r.counts.rate),
        "n_ref": r.counts.n_ref,
        "n_hyp": r.counts.n_hyp,
        "substitutions": r.counts.substitutions,
        "deletions": r.counts.deletions,
        "insertions": r.counts.insertions,
    }


def _diarization_json(r: DiarizationRow) -> dict[str, object]:
    return {
        "source": r.source,
        "language": r.language,
        "der": _r(r.score.der),
        "reference_ms": r.score.reference_ms,
        "miss_ms": r.score.miss_ms,
        "false_alarm_ms": r.score.false_alarm_ms,
        "confusion_ms": r.score.confusion_ms,
        "collar_ms": r.score.collar_ms,
        "frame_ms": r.score.frame_ms,
        "ref_speakers": r.score.ref_speakers,
        "hyp_speakers": r.score.hyp_speakers,
        "speaker_count_error": r.score.speaker_count_error,
        "mapping": {hyp: ref for hyp, ref in r.score.mapping},
    }


def _separation_json(r: SeparationRow) -> dict[str, object]:
    return {
        "source": r.source,
        "language": r.language,
        "stem": r.stem,
        "seconds": _r(r.seconds),
        "si_sdr_db": _r(r.si_sdr_db),
        "mixture_si_sdr_db": _r(r.mixture_si_sdr_db),
        "improvement_db": _r(r.improvement_db),
    }


def _clips_json(r: ClipsRow) -> dict[str, object]:
    return {
        "source": r.source,
        "n_truth": r.score.n_truth,
        "n_result": r.score.n_result,
        "matched": r.score.matched,
        "precision": _r(r.score.precision),
        "recall": _r(r.score.recall),
        "f1": _r(r.score.f1),
        "median_boundary_error_ms": _r(r.score.median_boundary_error_ms),
        "p95_boundary_error_ms": _r(r.score.p95_boundary_error_ms),
        "median_offset_error_ms": _r(r.score.median_offset_error_ms),
        "matches": [list(m) for m in r.score.matches],
    }


def _offset_json(r: OffsetRow) -> dict[str, object]:
    return {
        "source": r.source,
        "result_ms": r.result_ms,
        "truth_ms": r.truth_ms,
        "error_ms": r.error_ms,
        "time_map": None
        if r.time_map is None
        else {
            "pieces": r.time_map.pieces,
            "p50_error_ms": _r(r.time_map.p50_ms),
            "p95_error_ms": _r(r.time_map.p95_ms),
            "coverage": round(r.time_map.coverage, 4),
        },
    }


def _completeness_json(r: CompletenessRow) -> dict[str, object]:
    return {
        "source": r.source,
        "listed": r.result.listed,
        "missing": list(r.result.missing),
        "corrupt": list(r.result.corrupt),
        "unlisted": list(r.result.unlisted),
        "invalid": list(r.result.invalid),
    }


def to_json(report: Report) -> dict[str, object]:
    """The full report as plain JSON values (times in ms, rates as fractions)."""
    return {
        "truth": report.truth,
        "episode_id": report.episode_id,
        "result": report.result,
        "asr": [_asr_json(r) for r in report.asr],
        "subtitle_timing": [subtitle_json(r) for r in report.subtitles],
        "diarization": [_diarization_json(r) for r in report.diarization],
        "separation": [_separation_json(r) for r in report.separation],
        "clips": [_clips_json(r) for r in report.clips],
        "offsets": [_offset_json(r) for r in report.offsets],
        "completeness": [_completeness_json(r) for r in report.completeness],
        "dub": [dub_json(r) for r in report.dub],
        "faces": [faces_json(r) for r in report.faces],
        "flaps": [flap_json(r) for r in report.flaps],
        "quality": [quality_json(r) for r in report.quality],
        "problems": list(report.problems),
        "notes": list(report.notes),
        "ignored": report.ignored,
        "scored": report.scored,
        "defects": report.defects,
    }
