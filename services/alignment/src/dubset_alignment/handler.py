"""Alignment wired to its ports: the stage the runner executes and the inline call gRPC serves."""

from __future__ import annotations

from dataclasses import dataclass

from dubset.v1 import alignment_pb2, common_pb2
from dubset_alignment import STAGE, VERSION
from dubset_alignment.convert import (
    AlignmentParams,
    alignment_to_proto,
    params_from_proto,
    segments_from_proto,
)
from dubset_alignment.core.align import align
from dubset_alignment.core.jsonio import dumps, parse_transcript, parse_turns
from dubset_alignment.core.lines import (
    LONG_PAUSE_MS,
    Evidence,
    back_to_sources,
    crossings,
    silence_share,
    split_lines,
)
from dubset_alignment.core.mapped import align_mapped
from dubset_alignment.core.model import Alignment, AlignmentInputError, Segment, Turn
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


@dataclass(frozen=True)
class Language:
    """One language's transcript as alignment reads it, with its speaker turns."""

    segments: list[Segment]
    speech: list[tuple[int, int]]
    turns: list[Turn]


def align_lines(en: Language, ja: Language, p: AlignmentParams) -> Alignment:
    """The rule on lines (core/lines.py) when asked, else on the transcripts' segments; the
    clips' indices are the transcripts' segments either way."""
    if not p.split_lines:
        return run_align(en.segments, ja.segments, p)
    to_ja, to_en = crossings(p.ja_offset_ms, p.time_map)
    en_evidence = Evidence(en.speech, en.turns, silence_share(ja.speech, to_ja))
    ja_evidence = Evidence(ja.speech, ja.turns, silence_share(en.speech, to_en))
    en_lines = split_lines(en.segments, en_evidence, True, LONG_PAUSE_MS["en"])
    ja_lines = split_lines(ja.segments, ja_evidence, False, LONG_PAUSE_MS["ja"])
    al = run_align(list(en_lines.segments), list(ja_lines.segments), p)
    return back_to_sources(al, en_lines, ja_lines)


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
    optional_inputs: tuple[str, ...] = ("en_turns", "ja_turns")  # diarization turns.json

    def parse_params(self, request: common_pb2.StageRequest) -> AlignmentParams:
        params = unpack_params(request, alignment_pb2.AlignmentParams, "alignment")
        parsed = params_from_proto(params)
        if parsed.max_gap_ms < 0:
            raise InvalidInputError(f"max_gap_ms must not be negative ({parsed.max_gap_ms})")
        return parsed

    def run(self, ctx: StageContext[AlignmentParams]) -> StageOutcome:
        try:
            en, ja = _language(ctx, "en"), _language(ctx, "ja")
            ctx.hook(0.5, f"aligning {len(en.segments)} EN and {len(ja.segments)} JA segments")
            al = align_lines(en, ja, ctx.params)
        except AlignmentInputError as exc:
            raise InvalidInputError(str(exc)) from None
        data = dumps(al, en.segments, ja.segments)
        out = Output("clips", "clips.json", "application/json", data=data)
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


def _language(ctx: StageContext[AlignmentParams], name: str) -> Language:
    segments, speech = parse_transcript(ctx.read_input(name), name)
    turns_input = f"{name}_turns"
    has_turns = ctx.has_input(turns_input)
    turns = parse_turns(ctx.read_input(turns_input), turns_input) if has_turns else []
    return Language(segments, speech, turns)
