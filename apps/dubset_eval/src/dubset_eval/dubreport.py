"""The report of a dubbed episode (`dubset dub`'s EP.dubbed.report.json) as typed values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dubset_eval.fields import FieldError, array, integer, obj, span, string

FORMAT = "dubset-dub-report/1"
REPORT_SUFFIX = ".report.json"
CONTAINERS = ("mkv", "mp4")


@dataclass(frozen=True)
class DubLine:
    """One spoken English line: its Japanese line's span and where the English sits (both on
    the Japanese video's timeline), its text, speaker and voice."""

    index: int
    speaker: str
    voice: str
    en_text: str
    ja_start_ms: int
    ja_end_ms: int
    start_ms: int
    end_ms: int

    @property
    def voice_base(self) -> str:
        """The stock voice without its adjustments (the "+key=value" parts): "piper:joe" of
        "piper:joe+f0=180Hz,formant=1.1", "espeak-ng:en-us+f4" of "espeak-ng:en-us+f4+f0=290Hz"
        (en-us+f4 is espeak-ng's own voice variant)."""
        return "+".join(p for p in self.voice.split("+") if "=" not in p)


@dataclass(frozen=True)
class DubReport:
    container: str
    bed: str  # "separated[, N dB under the lines]" | "ducked" | "" when the report does not say
    lines: tuple[DubLine, ...]  # in time order


def is_dub_report(value: Mapping[str, object]) -> bool:
    return value.get("format") == FORMAT


def _line(value: object, where: str) -> DubLine:
    d = obj(value, where)
    ja = span(d, "ja_start_ms", "ja_end_ms", where)
    start, end = span(d, "start_ms", "end_ms", where)
    return DubLine(
        integer(d, "index", where, minimum=0),
        string(d, "speaker", where),
        string(d, "voice", where),
        string(d, "en_text", where),
        *ja,
        start,
        end,
    )


def parse_dub_report(value: Mapping[str, object]) -> DubReport:
    """Validate a parsed dub report; raises FieldError naming the first bad field."""
    if not is_dub_report(value):
        raise FieldError(f"format: expected {FORMAT!r}, got {value.get('format')!r:.40}")
    levels = value.get("levels")
    bed = levels.get("bed") if isinstance(levels, dict) else None
    lines = [_line(v, f"lines[{i}]") for i, v in enumerate(array(value, "lines", "report"))]
    return DubReport(
        string(value, "container", "report"),
        bed if isinstance(bed, str) else "",
        tuple(sorted(lines, key=lambda x: (x.start_ms, x.index))),
    )


def dubbed_video(report_path: Path, container: str) -> Path | None:
    """The dubbed episode beside its report (EP.dubbed.mkv of EP.dubbed.report.json): the
    report's container first, then the other; None when there is none."""
    name = report_path.name
    stem = name[: -len(REPORT_SUFFIX)] if name.endswith(REPORT_SUFFIX) else report_path.stem
    order = [container, *(c for c in CONTAINERS if c != container)]
    for suffix in order:
        candidate = report_path.with_name(f"{stem}.{suffix}")
        if suffix in CONTAINERS and candidate.is_file():
            return candidate
    return None


def dub_speech(value: Mapping[str, object]) -> list[tuple[int, int]]:
    """Where a dub report's English lines sit on the Japanese video's timeline (malformed
    reports give none: score_dub reports them)."""
    try:
        return [(x.start_ms, x.end_ms) for x in parse_dub_report(value).lines]
    except FieldError:
        return []
