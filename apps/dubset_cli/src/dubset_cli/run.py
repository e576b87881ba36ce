"""`dubset run`: one episode pair through the whole pipeline in this process, into a dataset."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from dubset.v1 import jobs_pb2, packaging_pb2
from dubset_cli import jobview
from dubset_cli.release import (
    add_release_arguments,
    attach_subtitles,
    choose_tracks,
    episode_number,
    release_of,
)
from dubset_cli.upload import add_tts_arguments, read_show, submission, upload
from dubset_common.errors import DubsetError
from dubset_common.keys import check_id


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="the whole pipeline on one episode pair in this process (no servers needed)",
        description="media → separation → ASR + diarization (JA, EN) → alignment → packaging, "
        "then export: an Anim-400K dataset under OUT/datasets/DATASET. The same orchestrator "
        "and stages as the services, over an in-process bus and OUT as the object store; "
        "re-running reuses every finished stage.",
    )
    add_release_arguments(p)
    p.add_argument("--show", required=True, type=Path, help="show.json (Anim-400K show object)")
    p.add_argument("--out", required=True, type=Path, help="work and output directory")
    p.add_argument("--dataset", default="default", help="dataset name (default: default)")
    p.add_argument("--no-video", action="store_true", help="cut audio clips only")
    add_tts_arguments(p)
    p.add_argument("--archives", action="store_true", help="also write the tar.gz archives")
    p.add_argument("--lhotse", action="store_true", help="also write lhotse manifests")
    p.add_argument("--verbose", action="store_true", help="log every stage's progress lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dubset_cli.pipeline import embedded

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(threadName)s %(levelname)s %(message)s",
    )
    started = time.monotonic()
    try:
        check_id(args.dataset, "dataset name")
        release = release_of(args)
        show = read_show(args.show)
        number = episode_number(show, release.number)
        args.out.mkdir(parents=True, exist_ok=True)
        with embedded(args.out.resolve()) as pipeline:
            if release.one_file:
                ja = en = upload(pipeline.store, release.ja, "the release")
            else:
                ja = upload(pipeline.store, release.ja, "the JA video")
                en = upload(pipeline.store, release.en, "the EN video")
            sub = submission(
                show, number, ja, en, dataset=args.dataset, tts=not args.no_tts,
                tts_backend=args.tts_backend, faces=not args.no_faces,
                quality=not args.no_quality,
            )  # fmt: skip
            choose_tracks(sub, release)
            attach_subtitles(sub, release, pipeline.store)
            if args.no_video:
                params = packaging_pb2.PackagingParams(video_clips=False)
                sub.options.stage_params["packaging"].Pack(params)
            job = pipeline.follow(sub)
            if job.state != jobs_pb2.JOB_STATE_SUCCEEDED:
                state = jobview.state_name(job.state)
                print(f"dubset run: job {job.job_id} {state}", file=sys.stderr)
                return 1
            summary = _export(pipeline.store, args)
    except DubsetError as exc:
        print(f"dubset run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(summary)
    print(f"done in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return 0


def _export(store: object, args: argparse.Namespace) -> str:
    from dubset_packaging.exporter import ExportOptions, export_dataset

    print("exporting the dataset ...", file=sys.stderr)
    result = export_dataset(
        store,  # type: ignore[arg-type]
        ExportOptions(dataset=args.dataset, archives=args.archives, lhotse=args.lhotse),
    )
    where = args.out.resolve() / "datasets" / args.dataset
    splits = ", ".join(f"{k} {v}" for k, v in sorted(result.clips_per_split.items()))
    return (
        f"dataset {where}\n"
        f"  {result.num_shows} shows, {result.num_episodes} episodes, {result.num_clips} clips "
        f"({splits})"
    )
