"""`dubset eval`: score pipeline outputs against a generated episode's truth.json."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "eval",
        help="score stage outputs or an exported dataset against a test episode's truth",
        description="Scores every result recognised under --result (docs/truth-format.md): "
        "ASR (WER en, CER ja), diarization (DER), separation (SI-SDR), clips (P/R/F1, boundary "
        "errors), offset and time map (error p50/p95), subtitle-sourced transcripts (edge "
        "errors per segment source, speaker names), completeness of manifests, and a dub "
        "report of `dubset dub` with the video beside it (line timing against the human dub, "
        "speech rate, re-recognition WER, voices per character, bed SI-SDR, DNSMOS, speaker "
        "similarity). Exit 0: "
        "scored; 1: missing, corrupt or "
        "malformed files found; 2: bad input.",
    )
    p.add_argument("--truth", required=True, type=Path, help="truth.json of the episode")
    p.add_argument(
        "--result",
        required=True,
        type=Path,
        help="a stage output file or folder, a run's output folder, or an exported dataset",
    )
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the full report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so that other subcommands do not pay for numpy and scipy at start-up.
    from dubset_eval.errors import EvalInputError
    from dubset_eval.evaluate import evaluate
    from dubset_eval.report import to_json, to_text

    try:
        report = evaluate(args.truth, args.result)
    except EvalInputError as exc:
        print(f"dubset eval: {exc}", file=sys.stderr)
        return 2
    if args.json is not None:
        body = json.dumps(to_json(report), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        try:
            args.json.write_text(body, encoding="utf-8")
        except OSError as exc:
            print(f"dubset eval: cannot write {args.json}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    sys.stdout.write(to_text(report))
    sys.stdout.flush()
    return 1 if report.defects else 0
