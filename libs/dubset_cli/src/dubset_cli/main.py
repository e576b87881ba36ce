"""Entry point of the `dubset` command."""

from __future__ import annotations

import argparse
import sys

from dubset_cli import (
    align,
    asr,
    diarize,
    evaluate,
    export,
    jobs,
    media,
    minionotify,
    mushra,
    package,
    run,
    sample,
    separate,
    verify,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dubset", description="Build Anim-400K dubbing datasets from dubbed episodes."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run.register(sub)
    jobs.register(sub)
    minionotify.register(sub)
    export.register(sub)
    verify.register(sub)
    package.register(sub)
    align.register(sub)
    evaluate.register(sub)
    mushra.register(sub)
    sample.register(sub)
    media.register(sub)
    separate.register(sub)
    asr.register(sub)
    diarize.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
