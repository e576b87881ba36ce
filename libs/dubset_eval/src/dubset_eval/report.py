"""The report of one evaluation: typed rows, a plain-text table and a JSON value."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dubset_eval.clips import ClipScore
from dubset_eval.completeness import Completeness
from dubset_eval.der import DerScore
from dubset_eval.text import ErrorRate


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
    diarization: tuple[DiarizationRow, ...] = ()
    separation: tuple[SeparationRow, ...] = ()
    clips: tuple[ClipsRow, ...] = ()
    offsets: tuple[OffsetRow, ...] = ()
    completeness: tuple[CompletenessRow, ...] = ()
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
            )
        )

    @property
    def defects(self) -> int:
        """Missing, corrupt, unlisted or invalid files, and malformed result files."""
        return sum(r.result.defects for r in self.completeness) + len(self.problems)


WIDTH = 100  # columns of a table line
MIN_SOURCE_WIDTH = 16
_HEX_KEY = re.compile(r"[0-9a-f]{64}")


def _pct(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def _db(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _ms(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0f}"


def _s(ms: int) -> str:
    return f"{ms / 1000:.2f}"


def _numeric(cell: str) -> bool:
    return cell == "n/a" or cell[:1].isdigit() or cell[:1] in "+-"


def short_source(source: str, width: int) -> str:
    """A result's path for the tables: content keys cut to 8 hex digits, the stages/ prefix
    dropped, then leading folders replaced by "…/" until it fits width (the JSON report keeps
    the whole path)."""
    parts = [p[:8] if _HEX_KEY.fullmatch(p) else p for p in source.split("/")]
    if parts[0] == "stages" and len(parts) > 1:
        parts = parts[1:]
    whole = "/".join(parts)
    for i in range(len(parts)):
        short = ("…/" if i else "") + "/".join(parts[i:])
        if len(short) <= width:
            return short
    keep = max(width - 1, 2)
    return whole[: keep // 2] + "…" + whole[len(whole) - (keep - keep // 2) :]


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to width; numeric columns right-aligned, the others left-aligned. The
    first column is a result's path, shortened (short_source) so that a line fits WIDTH."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    budget = WIDTH - 2 - sum(widths[1:]) - 2 * (len(widths) - 1)
    rows = [[short_source(r[0], max(budget, MIN_SOURCE_WIDTH)), *r[1:]] for r in rows]
    widths[0] = max(len(r[0]) for r in [headers, *rows])
    right = [all(_numeric(r[i]) for r in rows) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        )
        return ("  " + "  ".join(padded)).rstrip()

    return [title, line(headers), *(line(r) for r in rows), ""]


def to_text(report: Report) -> str:
    """The report as aligned plain-text tables, one per kind of result found."""
    out = [f"truth {report.truth} (episode {report.episode_id})", f"result {report.result}", ""]
    if report.asr:
        out += _table(
            "ASR (WER for en, CER for ja)",
            ["source", "lang", "metric", "rate", "ref", "hyp", "sub", "del", "ins"],
            [
                [
                    r.source,
                    r.language,
                    r.metric,
                    _pct(r.counts.rate),
                    str(r.counts.n_ref),
                    str(r.counts.n_hyp),
                    str(r.counts.substitutions),
                    str(r.counts.deletions),
                    str(r.counts.insertions),
                ]
                for r in report.asr
            ],
        )
    if report.diarization:
        out += _table(
            "Diarization (DER, collar 0.25 s, overlap scored; times in s)",
            ["source", "lang", "DER", "miss", "fa", "conf", "ref speech", "spk hyp/ref", "spk err"],
            [
                [
                    r.source,
                    r.language,
                    _pct(r.score.der),
                    _s(r.score.miss_ms),
                    _s(r.score.false_alarm_ms),
                    _s(r.score.confusion_ms),
                    _s(r.score.reference_ms),
                    f"{r.score.hyp_speakers}/{r.score.ref_speakers}",
                    f"{r.score.speaker_count_error:+d}",
                ]
                for r in report.diarization
            ],
        )
    if report.separation:
        out += _table(
            "Separation (SI-SDR in dB against the clean stem)",
            ["source", "lang", "stem", "seconds", "SI-SDR", "mixture", "improvement"],
            [
                [
                    r.source,
                    r.language,
                    r.stem,
                    f"{r.seconds:.1f}",
                    _db(r.si_sdr_db),
                    _db(r.mixture_si_sdr_db),
                    _db(r.improvement_db),
                ]
                for r in report.separation
            ],
        )
    if report.clips:
        out += _table(
            "Clips (one-to-one, IoU >= 0.5 in both languages; boundary and offset errors in ms)",
            ["source", "truth", "result", "match", "P", "R", "F1", "median", "p95", "offset"],
            [
                [
                    r.source,
                    str(r.score.n_truth),
                    str(r.score.n_result),
                    str(r.score.matched),
                    _pct(r.score.precision, 1),
                    _pct(r.score.recall, 1),
                    _pct(r.score.f1, 1),
                    _ms(r.score.median_boundary_error_ms),
                    _ms(r.score.p95_boundary_error_ms),
                    _ms(r.score.median_offset_error_ms),
                ]
                for r in report.clips
            ],
        )
    if report.offsets:
        out += _table(
            "Offset (ja_offset_ms)",
            ["source", "result", "truth", "error"],
            [
                [r.source, str(r.result_ms), str(r.truth_ms), str(r.error_ms)]
                for r in report.offsets
            ],
        )
    if report.completeness:
        out += _table(
            "Completeness",
            ["source", "listed", "missing", "corrupt", "unlisted", "invalid"],
            [
                [
                    r.source,
                    str(r.result.listed),
                    str(len(r.result.missing)),
                    str(len(r.result.corrupt)),
                    str(len(r.result.unlisted)),
                    str(len(r.result.invalid)),
                ]
                for r in report.completeness
            ],
        )
        for r in report.completeness:
            c = r.result
            for what, paths in (
                ("missing", c.missing),
                ("corrupt", c.corrupt),
                ("unlisted", c.unlisted),
                ("invalid", c.invalid),
            ):
                out += [f"  {what}: {r.source}: {p}" for p in paths[:20]]
                if len(paths) > 20:
                    out.append(f"  {what}: {r.source}: ... and {len(paths) - 20} more")
        if any(r.result.defects for r in report.completeness):
            out.append("")
    if report.problems:
        out += ["Problems", *(f"  {p}" for p in report.problems), ""]
    out += [f"note: {n}" for n in report.notes]
    out.append(
        f"{report.scored} results scored, {report.ignored} files ignored, {report.defects} defects"
    )
    return "\n".join(out) + "\n"


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def to_json(report: Report) -> dict[str, object]:
    """The full report as plain JSON values (times in ms, rates as fractions)."""
    return {
        "truth": report.truth,
        "episode_id": report.episode_id,
        "result": report.result,
        "asr": [
            {
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
            for r in report.asr
        ],
        "diarization": [
            {
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
            for r in report.diarization
        ],
        "separation": [
            {
                "source": r.source,
                "language": r.language,
                "stem": r.stem,
                "seconds": _r(r.seconds),
                "si_sdr_db": _r(r.si_sdr_db),
                "mixture_si_sdr_db": _r(r.mixture_si_sdr_db),
                "improvement_db": _r(r.improvement_db),
            }
            for r in report.separation
        ],
        "clips": [
            {
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
            for r in report.clips
        ],
        "offsets": [
            {
                "source": r.source,
                "result_ms": r.result_ms,
                "truth_ms": r.truth_ms,
                "error_ms": r.error_ms,
            }
            for r in report.offsets
        ],
        "completeness": [
            {
                "source": r.source,
                "listed": r.result.listed,
                "missing": list(r.result.missing),
                "corrupt": list(r.result.corrupt),
                "unlisted": list(r.result.unlisted),
                "invalid": list(r.result.invalid),
            }
            for r in report.completeness
        ],
        "problems": list(report.problems),
        "notes": list(report.notes),
        "ignored": report.ignored,
        "scored": report.scored,
        "defects": report.defects,
    }
