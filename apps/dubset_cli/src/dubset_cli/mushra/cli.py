"""The two subcommands: build a kit from a dataset, report the ratings that come back."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dubset_cli.mushra.errors import KitError

MAX_RATINGS_BYTES = 16 * 1024 * 1024


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "mushra",
        help="build a MUSHRA listening-test kit (human dub vs baseline TTS vs anchor)",
        description="Picks clips of an exported dataset that have a baseline TTS dub and "
        "writes OUT/index.html (the test page, works offline from file://), OUT/audio/ and "
        "OUT/trials.json (the key: which label is which system; keep it from the raters). "
        "Exit 0: built; 2: bad input.",
    )
    p.add_argument(
        "dataset",
        nargs="?",
        type=Path,
        metavar="DATASET",
        help="exported dataset folder (as `dubset verify` takes it)",
    )
    p.add_argument("--dataset", dest="dataset_flag", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--out", required=True, type=Path, help="kit folder to write")
    p.add_argument("--clips", type=int, default=20, help="trials (default 20)")
    p.add_argument("--seed", type=int, default=0, help="selection and order seed (default 0)")
    p.add_argument(
        "--anchor-hz", type=float, default=3500.0, help="low-pass anchor cutoff (default 3500)"
    )
    p.add_argument("--min-ms", type=int, default=1000, help="skip shorter clips (default 1000)")
    p.add_argument(
        "--max-ms", type=int, default=10000, help="trim longer clips to this (default 10000)"
    )
    p.add_argument("--title", default="", help="page title")
    p.set_defaults(func=run_kit)

    r = sub.add_parser(
        "mushra-report",
        help="score MUSHRA rating files: rater screening, mean and 95%% CI per system",
        description="Reads rating files saved by the kit's page (JSON or CSV), maps labels to "
        "systems through the key, drops raters per ITU-R BS.1534-3 post-screening, and prints "
        "per-system means with Student-t confidence intervals. Exit 0: reported; 2: bad input.",
    )
    r.add_argument("ratings", nargs="+", type=Path, metavar="RATINGS", help="rating files")
    r.add_argument(
        "--key", type=Path, help="the kit's trials.json (default: beside the first ratings file)"
    )
    r.add_argument(
        "--reference-min",
        type=float,
        default=90.0,
        help="a hidden-reference score below this counts against the rater (default 90)",
    )
    r.add_argument(
        "--anchor-max",
        type=float,
        default=None,
        help="also count an anchor score above this against the rater (default: off)",
    )
    r.add_argument(
        "--max-fraction",
        type=float,
        default=0.15,
        help="exclude a rater above this fraction of counted trials (default 0.15)",
    )
    r.add_argument("--confidence", type=float, default=0.95, help="interval level")
    r.add_argument("--json", action="store_true", help="print the report as JSON")
    r.set_defaults(func=run_report)


def run_kit(args: argparse.Namespace) -> int:
    from dubset_cli.mushra.kit import KitSpec, build

    def hook(fraction: float, message: str) -> None:
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    dataset = args.dataset or args.dataset_flag
    if dataset is None or (args.dataset and args.dataset_flag):
        print("dubset mushra: give one dataset: dubset mushra DATASET --out KIT", file=sys.stderr)
        return 2
    spec = KitSpec(
        dataset,
        args.out,
        args.clips,
        args.seed,
        args.anchor_hz,
        args.min_ms,
        args.max_ms,
        args.title,
    )
    try:
        summary = build(spec, hook)
    except (KitError, OSError) as exc:
        print(f"dubset mushra: {exc}", file=sys.stderr)
        return 2
    for w in summary.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(
        f"kit {summary.kit}: {summary.trials} trials in {args.out} "
        f"({summary.en_clips} EN clips, {summary.without_baseline} without a baseline, "
        f"{summary.too_short} too short)\n"
        f"send {args.out}/index.html with {args.out}/audio/ to the raters; "
        f"keep {args.out}/trials.json for dubset mushra-report"
    )
    return 0


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_RATINGS_BYTES:
            raise KitError(f"{path}: over {MAX_RATINGS_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise KitError(f"{path}: {exc.strerror or exc}") from None


def run_report(args: argparse.Namespace) -> int:
    from dubset_cli.mushra.ratings import parse_key, parse_ratings
    from dubset_cli.mushra.table import report_json, report_text
    from dubset_eval.mushra import ScreeningPolicy, report

    try:
        if not 0.0 <= args.max_fraction < 1.0:
            raise KitError("--max-fraction must be from 0 to below 1")
        if not 0.0 < args.confidence < 1.0:
            raise KitError("--confidence must be between 0 and 1")
        key_path = args.key or args.ratings[0].parent / "trials.json"
        key = parse_key(_read(key_path), str(key_path))
        ratings = [r for p in args.ratings for r in parse_ratings(_read(p), str(p), key)]
        policy = ScreeningPolicy(args.reference_min, args.max_fraction, args.anchor_max)
        result = report(ratings, policy, args.confidence, key.systems)
    except (KitError, ValueError) as exc:
        print(f"dubset mushra-report: {exc}", file=sys.stderr)
        return 2
    if args.json:
        body = report_json(result, key.kit, key.trials)
        sys.stdout.write(json.dumps(body, indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(report_text(result, key.kit, key.trials))
    return 0
