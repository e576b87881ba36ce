"""Alignment wired to its ports: the stage the runner executes and the inline call gRPC serves."""

from __future__ import annotations

from dubset.v1 import alignment_pb2, common_pb2
from dubset_alignment import STAGE, VERSION
from dubset_alignment.convert import (
    AlignmentParams,
    alignment_to_proto,
    params_from_proto,
    segments_from_proto,
)
from dubset_alignment.core.align import align
from dubset_alignment.core.jsonio import dumps, parse_segments
from dubset_alignment.core.mapped import align_mapped
from dubset_alignment.core.model import Alignment, AlignmentInputError, Segment
from dubset_common.errors import InvalidInputError
from dubset_common.facts import Facts
from dubset_common.runner import Output, StageContext, StageOutcome
from dubset_common.stagerequest import unpack_params

BACKEND = "anim400k-recursive-merge"
MAX_INPUT_BYTES = 64 * 1024 * 1024


def run_align(en: list[Segment], ja: list[Segment], p: AlignmentParams) -> Alignment:
    """The paper's rule, across the time map when there is one, else the offset."""
    if p.time_map is not None:
        return align_mapped(en, ja, p.max_gap_ms, p.time_map)
    return align(en, ja, p.max_gap_ms, p.ja_offset_ms)


def align_inline(request: alignment_pb2.AlignRequest) -> alignment_pb2.AlignResponse:
    """Align segments carried in the request itself."""
    p = params_from_proto(request.params)
    try:
        en, ja = segments_from_proto(request.en), segments_from_proto(request.ja)
        al = run_align(en, ja, p)
    except AlignmentInputError as exc:
        raise InvalidInputError(str(exc)) from None
    return alignment_to_proto(al)


class AlignmentStage:
    """Inputs `en` and `ja` are segment JSON files by reference; output `clips` is clips.json."""

    name = STAGE
    version = VERSION
    inputs: tuple[str, ...] = ("en", "ja")

    def parse_params(self, request: common_pb2.StageRequest) -> AlignmentParams:
        params = unpack_params(request, alignment_pb2.AlignmentParams, "alignment")
        parsed = params_from_proto(params)
        if parsed.max_gap_ms < 0:
            raise InvalidInputError(f"max_gap_ms must not be negative ({parsed.max_gap_ms})")
        return parsed

    def run(self, ctx: StageContext[AlignmentParams]) -> StageOutcome:
        try:
            en = parse_segments(ctx.read_input("en"), "en")
            ja = parse_segments(ctx.read_input("ja"), "ja")
            ctx.hook(0.5, f"aligning {len(en)} EN and {len(ja)} JA segments")
            al = run_align(en, ja, ctx.params)
        except AlignmentInputError as exc:
            raise InvalidInputError(str(exc)) from None
        out = Output("clips", "clips.json", "application/json", data=dumps(al, en, ja))
        info = {
            "clips": len(al.clips),
            "unpaired_en": len(al.unpaired_en),
            "unpaired_ja": len(al.unpaired_ja),
        }
        if ctx.params.time_map is not None:  # speech in stretches the other release lacks
            info["one_sided_en"] = len(al.one_sided_en)
            info["one_sided_ja"] = len(al.one_sided_ja)
        facts = Facts(clips=len(al.clips))
        return StageOutcome(outputs=(out,), backend=BACKEND, info=info, facts=facts)
