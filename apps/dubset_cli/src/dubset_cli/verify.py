"""`dubset verify`: check an exported dataset against its manifest and the Anim-400K schema."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from dubset_cli.connect import store_origin, store_settings
from dubset_cli.datasetdir import not_a_dataset
from dubset_cli.progress import Progress
from dubset_common.errors import DubsetError, TransientError
from dubset_common.objstore import S3Store, make_s3_client
from dubset_packaging.datasetfiles import (
    DatasetFiles,
    LocalDatasetFiles,
    StoreDatasetFiles,
    parse_s3_location,
)
from dubset_packaging.verifier import verify_dataset


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "verify",
        help="check a dataset: files present, checksums, references, annotation schema",
        description="PATH is a local dataset directory (holding anim400k_annotations.json) or "
        "s3://bucket/key-prefix (credentials from DUBSET_S3_*). Exit 0: no defect; 1: defects "
        "(one per line); 2: the dataset could not be read.",
    )
    p.add_argument("path", help="dataset directory or s3://bucket/prefix")
    p.add_argument("--skip-checksums", action="store_true", help="compare sizes only (faster)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=run)


def open_dataset(location: str) -> DatasetFiles:
    if location.startswith("s3://"):
        bucket, prefix = parse_s3_location(location)
        s = store_settings()
        client = make_s3_client(s.s3_endpoint, s.s3_region, s.s3_access_key, s.s3_secret_key)
        return StoreDatasetFiles(S3Store(client, bucket), prefix)
    return LocalDatasetFiles(Path(location))


def run(args: argparse.Namespace) -> int:
    if not args.path.startswith("s3://"):
        why = not_a_dataset(Path(args.path))
        if why:
            print(f"dubset verify: {why}", file=sys.stderr)
            return 2
    progress = Progress()
    try:
        files = open_dataset(args.path)
        report = verify_dataset(files, args.skip_checksums, hook=lambda f, m: progress(m, f))
    except (DubsetError, OSError) as exc:
        progress.close()
        remote = isinstance(exc, TransientError) and args.path.startswith("s3://")
        print(f"dubset verify: {exc}{f'; {store_origin()}' if remote else ''}", file=sys.stderr)
        return 2
    progress.close()
    if args.json:
        print(json.dumps(dataclasses.asdict(report), ensure_ascii=False))
    else:
        for p in report.problems:
            print(f"{p.kind}\t{p.path}\t{p.detail}")
        verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        print(f"{files.location}: {verdict}, {report.files_checked} files checked", file=sys.stderr)
    return 0 if report.ok else 1
