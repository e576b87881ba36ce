"""Entry point of the `dubset` command."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version

from dubset_cli import (
    align,
    asr,
    diarize,
    dub,
    evaluate,
    export,
    faces,
    jobs,
    media,
    minionotify,
    mushra,
    package,
    quality,
    render,
    run,
    sample,
    separate,
    speak,
    translate,
    tts,
    verify,
)
from dubset_cli.helpformat import CommandGroups

JOB_COMMANDS = ("jobs", "status", "watch", "cancel", "retry")
GROUPS = (
    ("make a dataset", ("run", "submit", "minio-notify")),
    ("dub an episode", ("dub",)),
    ("jobs (on the services of `make up` or a cluster)", JOB_COMMANDS),
    (
        "one stage on local files",
        (
            "probe",
            "extract",
            "offset",
            "separate",
            "asr",
            "diarize",
            "align",
            "translate",
            "package",
            "tts",
            "speak",
            "render",
            "faces",
            "quality",
        ),
    ),
    (
        "datasets and evaluation",
        ("export", "verify", "sample", "eval", "mushra", "mushra-report"),
    ),
)
REGISTER = (
    run,
    dub,
    jobs,
    minionotify,
    export,
    verify,
    package,
    align,
    translate,
    speak,
    render,
    faces,
    quality,
    evaluate,
    mushra,
    sample,
)
REGISTER_STAGES = (media, separate, asr, diarize, tts)


def cli_version() -> str:
    try:
        return version("dubset-cli")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dubset",
        description="Build Anim-400K dubbing datasets from dubbed episodes.",
        epilog="`dubset COMMAND --help` shows a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dubset {cli_version()}")
    sub = parser.add_subparsers(
        dest="command",
        metavar="COMMAND",
        help=argparse.SUPPRESS,
        action=CommandGroups,
    )
    for module in (*REGISTER, *REGISTER_STAGES):
        module.register(sub)
    assert isinstance(sub, CommandGroups)
    parser.description = f"{parser.description}\n\n{sub.listing(GROUPS)}"
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
