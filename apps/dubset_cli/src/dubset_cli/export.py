"""`dubset export`: publish a dataset's episode fragments as Anim-400K files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dubset_cli.connect import store_origin, store_settings
from dubset_cli.progress import Progress
from dubset_common.errors import DubsetError, TransientError
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
    p.set_defaults(func=run)


def _print(summary: ExportSummary) -> None:
    print(f"dataset  {summary.dataset_uri}")
    print(
        f"shows {summary.num_shows}  episodes {summary.num_episodes}  clips {summary.num_clips}"
        f"  baseline clips {summary.num_baseline_clips}"
    )
    print("clips    " + "  ".join(f"{k} {v}" for k, v in summary.clips_per_split.items()))
    for info in (summary.manifest, summary.annotations, *summary.archives, *summary.lhotse):
        print(f"wrote    {info.uri}  ({info.size_bytes} bytes)")
    for warning in summary.warnings:
        print(f"warning  {warning}")


def run(args: argparse.Namespace) -> int:
    progress = Progress()
    try:
        ratios = parse_ratios(args.splits)
        store: ObjectStore = LocalStore(args.store) if args.store else build_store(store_settings())
        options = ExportOptions(args.dataset, ratios, args.archives, args.lhotse)
        summary = export_dataset(store, options, hook=lambda f, m: progress(m, f))
    except (DubsetError, OSError) as exc:
        progress.close()
        hint = f"; {store_origin()}" if isinstance(exc, TransientError) and not args.store else ""
        print(f"dubset export: {exc}{hint}", file=sys.stderr)
        return 2
    progress.close()
    _print(summary)
    return 0
