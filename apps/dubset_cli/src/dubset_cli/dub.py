"""`dubset dub`: a Japanese episode dubbed into English in this process (the dub job)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from dubset.v1 import jobs_pb2, media_pb2, render_pb2, translation_pb2, tts_pb2
from dubset_cli import jobview
from dubset_cli.speak import pins_of
from dubset_cli.upload import read_show, upload
from dubset_common.anim400k_proto import show_to_proto
from dubset_common.errors import DubsetError, InvalidInputError
from dubset_common.objstore import ObjectStore
from dubset_translation.core.model import SOURCES
from dubset_tts.backends import BACKENDS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "dub",
        help="dub a Japanese episode into English in this process (no servers needed)",
        description="media → separation → ASR + diarization (JA) → translation → one voice "
        "per character (tts) → render: the episode with an added English track and its "
        "subtitles, the video and Japanese track untouched. The same orchestrator and stages "
        "as the services; re-running reuses every finished stage (--work).",
    )
    p.add_argument("--video", required=True, type=Path, help="the Japanese episode (MKV, MP4)")
    p.add_argument("--en-subs", type=Path, help="official English subtitles: the translation")
    p.add_argument("--en-subs-track", type=int, help="an English subtitle stream of --video")
    p.add_argument("--ja-track", type=int, help="the Japanese audio stream (default: chosen)")
    p.add_argument("--show", type=Path, help="show.json (default: the file's name)")
    p.add_argument("--episode-number", type=int, default=1, help="(default 1)")
    p.add_argument("--translation", choices=SOURCES, help="default: subtitles if given, else "
                   "whisper")  # fmt: skip
    p.add_argument("--endpoint", default="", help="openai: the server's base URL")
    p.add_argument("--model", default="", help="openai: the server's model")
    p.add_argument("--api-key-file", type=Path, help="openai: a file holding the API key")
    p.add_argument("--tts-backend", choices=BACKENDS, default="piper", help="synthesizer")
    p.add_argument("--tts-model-dir", type=Path, help="yourtts: the model directory (each "
                   "character cloned from their own Japanese speech)")  # fmt: skip
    p.add_argument("--voice", action="append", default=[], metavar="SPEAKER=VOICE",
                   help="pin a speaker's voice; repeatable")  # fmt: skip
    p.add_argument("--flaps", action="store_true", help="time each line to the speaking "
                   "face's mouth flaps (the faces stage; per line in the report)")  # fmt: skip
    p.add_argument("--out", required=True, type=Path, help="the dubbed episode (.mkv or .mp4)")
    p.add_argument("--work", type=Path, help="work directory (default: beside --out)")
    p.add_argument("--submit", action="store_true", help="dub through the jobs service instead "
                   "(uploads to S3, follows the job, downloads the result to --out)")  # fmt: skip
    p.add_argument("--server", help="with --submit: jobs server HOST:PORT (default: "
                   "$DUBSET_JOBS_SERVER, else the one `make services` started)")  # fmt: skip
    p.add_argument("--verbose", action="store_true", help="log every stage's progress lines")
    p.set_defaults(func=run)


def dub_submission(
    args: argparse.Namespace, video: jobs_pb2.EpisodeSubmission
) -> jobs_pb2.EpisodeSubmission:
    """The dub job's submission, video and subtitles already uploaded into `video`."""
    sub = video
    sub.options.kind = jobs_pb2.JOB_KIND_DUB
    if getattr(args, "flaps", False):
        sub.options.run_faces = True
    container = args.out.suffix.lstrip(".").lower()
    if container not in ("mkv", "mp4"):
        raise InvalidInputError(f"--out {args.out}: write a .mkv or an .mp4")
    sub.options.stage_params["render"].Pack(render_pb2.RenderParams(container=container))
    model_dir = getattr(args, "tts_model_dir", None)
    sub.options.stage_params["tts"].Pack(
        tts_pb2.TtsParams(
            backend=args.tts_backend,
            voices=pins_of(args.voice),
            model_dir=str(model_dir.resolve()) if model_dir else "",
        )
    )
    if args.translation or args.endpoint:
        sub.options.stage_params["translation"].Pack(
            translation_pb2.TranslationParams(
                backend=args.translation or "openai", endpoint=args.endpoint, model=args.model
            )
        )
    media = media_pb2.MediaParams()
    if args.ja_track is not None:
        media.ja_stream_index = args.ja_track
    if args.en_subs_track is not None:
        media.en_subtitle_stream = args.en_subs_track
    if media.ByteSize():
        sub.options.stage_params["media"].Pack(media)
    return sub


def check_args(args: argparse.Namespace) -> None:
    """What can be refused before anything is uploaded or run."""
    if args.out.suffix.lstrip(".").lower() not in ("mkv", "mp4"):
        raise InvalidInputError(f"--out {args.out}: write a .mkv or an .mp4")
    if not args.video.is_file():
        raise InvalidInputError(f"{args.video}: no such file")
    if args.en_subs is not None and args.en_subs_track is not None:
        raise InvalidInputError("give --en-subs or --en-subs-track, not both")
    if args.server and not args.submit:
        raise InvalidInputError("--server goes with --submit")
    if args.tts_model_dir is not None and args.tts_backend != "yourtts":
        raise InvalidInputError("--tts-model-dir is for --tts-backend yourtts")


def upload_dub(args: argparse.Namespace, store: ObjectStore) -> jobs_pb2.EpisodeSubmission:
    """Upload the video (and subtitles) and make the dub submission."""
    show = read_show(args.show) if args.show else {"show": args.video.stem}
    print("uploading the episode ...", file=sys.stderr)
    ja = upload(store, args.video, "the episode")
    sub = jobs_pb2.EpisodeSubmission(
        show=show_to_proto({k: v for k, v in show.items() if k != "episodes"}),
        episode_number=args.episode_number, ja_media=ja,
    )  # fmt: skip
    if args.en_subs is not None:
        sub.en_subtitles.CopyFrom(upload(store, args.en_subs, "the subtitles"))
    return dub_submission(args, sub)


def fetch_dub(store: ObjectStore, job: jobs_pb2.JobStatus, out: Path) -> None:
    """The finished job's dubbed episode to `out`, its report and SRT beside it."""
    wanted = {"video": out, "report": out.with_suffix(".report.json"),
              "subtitles": out.with_suffix(".srt")}  # fmt: skip
    for name, path in wanted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        store.get_file(store.key_of(job.outputs[f"render/{name}"].uri), path)


def _failed(job: jobs_pb2.JobStatus) -> int:
    reason = f" at {job.error_stage}: {job.error_reason}" if job.error_reason else ""
    print(f"dubset dub: job {job.job_id} {jobview.state_name(job.state)}{reason}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    started = time.monotonic()
    try:
        check_args(args)
        if args.api_key_file is not None:
            os.environ["DUBSET_TRANSLATION_API_KEY_FILE"] = str(args.api_key_file.resolve())
        if args.submit:
            from dubset_cli.dubsubmit import dub_remotely

            job, store = dub_remotely(args)
        else:
            job, store = _dub_here(args)
        if job.state != jobs_pb2.JOB_STATE_SUCCEEDED:
            return _failed(job)
        fetch_dub(store, job, args.out)
    except DubsetError as exc:
        print(f"dubset dub: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(f"{args.out} (report {args.out.with_suffix('.report.json')}, subtitles "
          f"{args.out.with_suffix('.srt')}); done in {time.monotonic() - started:.1f}s",
          file=sys.stderr)  # fmt: skip
    return 0


def _dub_here(args: argparse.Namespace) -> tuple[jobs_pb2.JobStatus, ObjectStore]:
    """The dub job in this process, over a work directory beside --out."""
    from dubset_cli.pipeline import embedded

    work = (args.work or args.out.parent / f".{args.out.stem}.dubset").resolve()
    work.mkdir(parents=True, exist_ok=True)
    with embedded(work) as pipeline:
        job = pipeline.follow(upload_dub(args, pipeline.store))
    return job, pipeline.store
