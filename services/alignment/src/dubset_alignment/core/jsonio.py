"""Segment lists and alignments as JSON values (the CLI and worker file format)."""

from __future__ import annotations

import json
import math

from dubset_alignment.core.model import Alignment, AlignmentInputError, Segment
from dubset_common.jsondoc import clip_doc

_MAX_SEGMENTS = 1_000_000


def parse_segments(raw: bytes | str, name: str) -> list[Segment]:
    """Parse `[{"start_ms", "end_ms", "text"}]`, or an ASR output object with a "segments" list."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AlignmentInputError(f"{name}: not valid JSON ({exc})") from None
    if isinstance(value, dict) and "segments" in value:
        value = value["segments"]
    if not isinstance(value, list):
        raise AlignmentInputError(f"{name}: expected a JSON list of segments")
    if len(value) > _MAX_SEGMENTS:
        raise AlignmentInputError(
            f"{name}: {len(value)} segments is over the limit of {_MAX_SEGMENTS}"
        )
    return [_segment(item, f"{name} segment {i}") for i, item in enumerate(value)]


def _segment(item: object, where: str) -> Segment:
    if not isinstance(item, dict):
        raise AlignmentInputError(f"{where}: expected an object")
    missing = [k for k in ("start_ms", "end_ms") if k not in item]
    if missing:
        raise AlignmentInputError(f"{where}: missing {', '.join(missing)}")
    text = item.get("text", "")
    start, end = item["start_ms"], item["end_ms"]
    for key, value in (("start_ms", start), ("end_ms", end)):
        if isinstance(value, float) and math.isnan(value):
            raise AlignmentInputError(f"{where}: {key} is NaN")
        if isinstance(value, bool) or not isinstance(value, int):
            raise AlignmentInputError(f"{where}: {key} must be an integer, got {value!r:.40}")
    if not isinstance(text, str):
        raise AlignmentInputError(f"{where}: text must be a string")
    return Segment(start, end, text)


def alignment_to_json(al: Alignment) -> dict[str, object]:
    value: dict[str, object] = {
        "clips": [clip_doc(c) for c in al.clips],
        "unpaired_en": list(al.unpaired_en),
        "unpaired_ja": list(al.unpaired_ja),
    }
    if al.one_sided_en or al.one_sided_ja:
        value["one_sided_en"] = list(al.one_sided_en)
        value["one_sided_ja"] = list(al.one_sided_ja)
    return value


def dumps(al: Alignment) -> bytes:
    """Deterministic JSON bytes, one clip per line, UTF-8 text kept readable."""
    value = alignment_to_json(al)

    def one(v: object) -> str:
        return json.dumps(v, ensure_ascii=False, separators=(", ", ": "))

    clips = value["clips"]
    assert isinstance(clips, list)
    body = ",\n".join(f"  {one(c)}" for c in clips)
    sided = "".join(
        f',\n "{k}": {one(value[k])}' for k in ("one_sided_en", "one_sided_ja") if k in value
    )
    return (
        f'{{"clips": [\n{body}\n ],\n'
        f' "unpaired_en": {one(value["unpaired_en"])},\n'
        f' "unpaired_ja": {one(value["unpaired_ja"])}{sided}}}\n'
    ).encode()
