"""`dubset export`: publish a dataset's episode fragments as Anim-400K files."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from dubset_cli.connect import store_origin, store_settings
from dubset_cli.progress import Progress
from dubset_common.clipquality import Thresholds
from dubset_common.errors import DubsetError, InvalidInputError, TransientError
from dubset_common.objstore import LocalStore, ObjectStore
from dubset_common.wiring import build_store
from dubset_packaging.core.splits import DEFAULT_RATIOS, parse_ratios
from dubset_packaging.exporter import ExportOptions, ExportSummary, export_dataset


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export",
        help="write a dataset's annotations, manifest (and archives, lhotse manifests)",
        description="Reads datasets/NAME/episodes/*.json (written by the packaging stage) and "
        "writes datasets/NAME/manifest.jsonl, then anim400k_annotations.json, in the object "
        "store (S3 from DUBSET_S3_* settings, or a local store directory with --store).",
    )
    p.add_argument("--dataset", required=True, help="dataset name (the packaging stage's)")
    p.add_argument("--store", type=Path, help="a local object-store directory instead of S3")
    p.add_argument(
        "--splits",
        default=",".join(str(r) for r in DEFAULT_RATIOS),
        help="train,val,test ratios by show (default 0.8,0.1,0.1)",
    )
    p.add_argument("--archives", action="store_true", help="also write the clip tar.gz archives")
    p.add_argument("--lhotse", action="store_true", help="also write lhotse/*.jsonl.gz manifests")
    q = p.add_argument_group(
        "quality filter",
        "keep only the clip pairs whose quality signals pass (the quality stage's; a pair "
        "without them is dropped); the kept pairs are written to the dataset --to, with their "
        "media, and datasets/TO/dropped.jsonl lists every pair left out and why",
    )
    q.add_argument("--to", default="", help="the filtered dataset's name (required with a filter)")
    for flag, help_text in FILTERS:
        q.add_argument(f"--{flag}", type=float, default=None, metavar="X", help=help_text)
    p.set_defaults(func=run)


FILTERS = (
    ("min-quality", "the pair's quality score at least X (0..1; docs/quality.md)"),
    ("min-dnsmos", "DNSMOS P.835 overall of both languages' dialogue at least X (1..5)"),
    ("max-overlap", "share of either clip with two speakers at once at most X"),
    ("max-duration-ratio", "JA/EN (or EN/JA) duration ratio at most X"),
    ("min-confidence", "mean ASR word confidence of both clips at least X"),
    ("min-agreement", "re-recognition agreement (1 - WER/CER) of both clips at least X"),
    ("max-music-db", "music and effects under the English dialogue at most X dB"),
)


def thresholds(args: argparse.Namespace) -> Thresholds:
    values = {flag: getattr(args, flag.replace("-", "_")) for flag, _ in FILTERS}
    for flag, value in values.items():
        if value is not None and not math.isfinite(value):
            raise InvalidInputError(f"--{flag} must be a number")
    return Thresholds(
        min_quality=values["min-quality"],
        min_dnsmos=values["min-dnsmos"],
        max_overlap=values["max-overlap"],
        max_duration_ratio=values["max-duration-ratio"],
        min_confidence=values["min-confidence"],
        min_agreement=values["min-agreement"],
        max_music_db=values["max-music-db"],
    )


def _print(summary: ExportSummary) -> None:
    print(f"dataset  {summary.dataset_uri}")
    print(
        f"shows {summary.num_shows}  episodes {summary.num_episodes}  clips {summary.num_clips}"
        f"  baseline clips {summary.num_baseline_clips}"
    )
    print("clips    " + "  ".join(f"{k} {v}" for k, v in summary.clips_per_split.items()))
    print(f"quality  {summary.num_scored_clips} clip pairs scored")
    if summary.dropped:
        print(f"dropped  {len(summary.dropped)} clip pairs (listed in dropped.jsonl)")
    for info in (summary.manifest, summary.annotations, *summary.archives, *summary.lhotse):
        print(f"wrote    {info.uri}  ({info.size_bytes} bytes)")
    for warning in summary.warnings:
        print(f"warning  {warning}")


def run(args: argparse.Namespace) -> int:
    progress = Progress()
    try:
        ratios = parse_ratios(args.splits)
        store: ObjectStore = LocalStore(args.store) if args.store else build_store(store_settings())
        options = ExportOptions(
            args.dataset, ratios, args.archives, args.lhotse, thresholds(args), args.to
        )
        summary = export_dataset(store, options, hook=lambda f, m: progress(m, f))
    except (DubsetError, OSError) as exc:
        progress.close()
        hint = f"; {store_origin()}" if isinstance(exc, TransientError) and not args.store else ""
        print(f"dubset export: {exc}{hint}", file=sys.stderr)
        return 2
    progress.close()
    _print(summary)
    return 0
