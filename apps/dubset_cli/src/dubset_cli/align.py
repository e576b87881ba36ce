"""`dubset align`: the alignment stage on local JSON files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dubset_alignment.core.align import align
from dubset_alignment.core.jsonio import dumps, parse_segments
from dubset_alignment.core.model import DEFAULT_MAX_GAP_MS, AlignmentInputError

MAX_FILE_BYTES = 64 * 1024 * 1024


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "align",
        help="merge JA and EN ASR segments into clip pairs (Anim-400K rule)",
        description="Segments that overlap or lie within --max-gap-ms of each other, in either "
        "language, merge transitively; groups holding both languages become clip pairs.",
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
        en = parse_segments(_read(args.en), str(args.en))
        ja = parse_segments(_read(args.ja), str(args.ja))
        if args.max_gap_ms < 0:
            raise AlignmentInputError("--max-gap-ms must not be negative")
        result = align(en, ja, args.max_gap_ms, args.ja_offset_ms)
    except AlignmentInputError as exc:
        print(f"dubset align: {exc}", file=sys.stderr)
        return 2
    sys.stdout.buffer.write(dumps(result, en, ja))
    sys.stdout.flush()
    return 0
