"""The one place protobuf messages and alignment values meet."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dubset.v1 import alignment_pb2, common_pb2
from dubset_alignment.core.model import DEFAULT_MAX_GAP_MS, Alignment, Segment
from dubset_common.errors import InvalidInputError
from dubset_common.runner import OPTIONAL
from dubset_common.timemap import TimeMap, TimeMapError
from dubset_common.timemap_proto import timemap_from_proto


def segments_from_proto(segments: Iterable[common_pb2.Segment]) -> list[Segment]:
    return [Segment(s.start_ms, s.end_ms, s.text) for s in segments]


@dataclass(frozen=True)
class AlignmentParams:
    """The alignment's params (hashed into the stage's output key; an unset map is left out,
    so plain episodes keep their keys)."""

    max_gap_ms: int
    ja_offset_ms: int
    time_map: TimeMap | None = field(default=None, metadata=OPTIONAL)
    # Lines before the rule (core/lines.py); None is the default, on. Only an explicit false
    # enters the key, so the default keeps the params (and the key scheme) of version 2.
    split_lines_off: bool | None = field(default=None, metadata=OPTIONAL)

    @property
    def split_lines(self) -> bool:
        return not self.split_lines_off


def params_from_proto(params: alignment_pb2.AlignmentParams) -> AlignmentParams:
    """The params, with the paper's 125 ms when the gap is unset; InvalidInputError when the
    time map is not one."""
    gap = params.max_gap_ms if params.HasField("max_gap_ms") else DEFAULT_MAX_GAP_MS
    try:
        time_map = timemap_from_proto(params.time_map)
    except TimeMapError as exc:
        raise InvalidInputError(f"alignment time_map: {exc}") from None
    off = True if params.HasField("split_lines") and not params.split_lines else None
    return AlignmentParams(gap, params.ja_offset_ms, time_map, off)


def alignment_to_proto(al: Alignment) -> alignment_pb2.AlignResponse:
    return alignment_pb2.AlignResponse(
        clips=[
            common_pb2.ClipPair(
                start_ms=c.start_ms,
                end_ms=c.end_ms,
                ja_start_ms=c.ja_start_ms,
                ja_end_ms=c.ja_end_ms,
                en=c.en,
                ja=c.ja,
                en_text=c.en_text,
                ja_text=c.ja_text,
            )
            for c in al.clips
        ],
        unpaired_en=al.unpaired_en,
        unpaired_ja=al.unpaired_ja,
    )
