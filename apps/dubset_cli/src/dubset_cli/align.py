"""`dubset align`: the alignment stage on local JSON files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dubset_alignment.convert import AlignmentParams
from dubset_alignment.core.jsonio import dumps, parse_transcript, parse_turns
from dubset_alignment.core.model import DEFAULT_MAX_GAP_MS, AlignmentInputError
from dubset_alignment.handler import Language, align_lines

MAX_FILE_BYTES = 64 * 1024 * 1024


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "align",
        help="merge JA and EN ASR segments into clip pairs (Anim-400K rule)",
        description="Segments that overlap or lie within --max-gap-ms of each other, in either "
        "language, merge transitively; groups holding both languages become clip pairs. When "
        "a transcript has its speech map (`dubset asr` writes one), its words are first "
        "regrouped into lines: a line ends at a long pause, or at a shorter one where the "
        "speaker changes (--en-turns/--ja-turns) or the other language is silent too.",
    )
    p.add_argument(
        "--en", required=True, type=Path, help="EN segments: JSON list of {start_ms, end_ms, text}"
    )
    p.add_argument("--ja", required=True, type=Path, help="JA segments, same format")
    p.add_argument(
        "--max-gap-ms",
        type=int,
        default=DEFAULT_MAX_GAP_MS,
        help="merge gap, inclusive (default 125)",
    )
    p.add_argument(
        "--ja-offset-ms", type=int, default=0, help="JA time = EN time + offset (default 0)"
    )
    p.add_argument("--en-turns", type=Path, help="EN speaker turns (`dubset diarize` JSON)")
    p.add_argument("--ja-turns", type=Path, help="JA speaker turns (`dubset diarize` JSON)")
    p.add_argument(
        "--no-split-lines",
        action="store_true",
        help="merge the transcripts' segments as they are (the paper's rule alone)",
    )
    p.set_defaults(func=run)


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise AlignmentInputError(f"{path}: {size} bytes is over the limit of {MAX_FILE_BYTES}")
        return path.read_bytes()
    except OSError as exc:
        raise AlignmentInputError(f"{path}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    try:
        en = _language(args.en, args.en_turns)
        ja = _language(args.ja, args.ja_turns)
        if args.max_gap_ms < 0:
            raise AlignmentInputError("--max-gap-ms must not be negative")
        off = True if args.no_split_lines else None
        params = AlignmentParams(args.max_gap_ms, args.ja_offset_ms, split_lines_off=off)
        result = align_lines(en, ja, params)
    except AlignmentInputError as exc:
        print(f"dubset align: {exc}", file=sys.stderr)
        return 2
    sys.stdout.buffer.write(dumps(result, en.segments, ja.segments))
    sys.stdout.flush()
    return 0


def _language(transcript: Path, turns: Path | None) -> Language:
    segments, speech = parse_transcript(_read(transcript), str(transcript))
    turn_list = parse_turns(_read(turns), str(turns)) if turns is not None else []
    return Language(segments, speech, turn_list)
