"""`dubset package`: cut one episode's clips into a local Anim-400K dataset directory.

It runs the packaging stage itself through the stage executor over a local object store in a
work directory, then moves the dataset files (clip media and episodes/<id>.json) into --out, so
the CLI and the pipeline share one code path and write the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from prometheus_client import CollectorRegistry

from dubset.v1 import packaging_pb2
from dubset_cli.progress import Progress
from dubset_common.anim400k import normalize_episode_info, normalize_show
from dubset_common.errors import DubsetError, InvalidInputError
from dubset_common.keys import canonical_json, check_id, file_sha256
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_packaging import STAGE
from dubset_packaging.handler import MAX_INPUT_BYTES, PackagingStage, dataset_prefix

WORK_DATASET = "local"
MAX_DOC_BYTES = 64 * 1024 * 1024


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "package",
        help="cut one episode's clip pairs into an Anim-400K dataset directory",
        description="Writes anim400k_audio_clips/, anim400k_video_clips/ and "
        "episodes/<episode id>.json (the episode's annotations, files and checksums) under "
        "--out; run it once per episode into one directory, then export the dataset.",
    )
    p.add_argument("--ja", required=True, type=Path, help="the original JA video")
    p.add_argument("--en", required=True, type=Path, help="the EN dub video (may be --ja)")
    p.add_argument("--clips", required=True, type=Path, help="clips.json of `dubset align`")
    p.add_argument("--ja-turns", required=True, type=Path, help="JA turns of `dubset diarize`")
    p.add_argument("--en-turns", required=True, type=Path, help="EN turns, same")
    p.add_argument("--show", required=True, type=Path, help="show.json (Anim-400K show object)")
    p.add_argument("--episode", required=True, help="episode number (key of show.episodes)")
    p.add_argument("--out", required=True, type=Path, help="dataset directory")
    p.add_argument(
        "--media",
        type=Path,
        help="media.json of the media stage (audio streams, offset); default: the first audio "
        "stream of each video (the second of --en when --en is --ja) and the clips' offset",
    )
    p.add_argument("--episode-id", help="default: derived from the show name and episode")
    p.add_argument("--no-video", action="store_true", help="audio clips (mp3) only")
    p.add_argument("--bitrate", type=int, default=96, help="mp3 kbps (default 96)")
    p.add_argument("--work-dir", type=Path, help="keep the work store here (default: temporary)")
    p.set_defaults(func=run)


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_DOC_BYTES:
            raise InvalidInputError(f"{path}: over {MAX_DOC_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{path}: {exc.strerror or exc}") from None


def _json(path: Path) -> dict[str, object]:
    try:
        value = json.loads(_read(path))
    except ValueError as exc:
        raise InvalidInputError(f"{path}: not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInputError(f"{path}: must hold a JSON object")
    return value


def episode_id_of(show: dict[str, object], number: str) -> str:
    """A safe id from the show (and season) name and the episode number."""
    name = str(show.get("season") or show.get("show") or "episode")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "episode"
    suffix = "-e" + re.sub(r"[^A-Za-z0-9]+", "-", number)
    return check_id(slug[: 128 - len(suffix)] + suffix, "episode id")


def episode_doc(args: argparse.Namespace, digests: dict[str, str]) -> tuple[str, bytes]:
    raw = _json(args.show)
    show = normalize_show(raw, str(args.show))
    episodes = raw.get("episodes") or {}
    if not isinstance(episodes, dict):
        raise InvalidInputError(f"{args.show}: episodes must be an object")
    info_raw = episodes.get(str(args.episode)) or {}
    if not isinstance(info_raw, dict):
        raise InvalidInputError(f"{args.show}: episodes[{args.episode!r}] must be an object")
    info = normalize_episode_info(info_raw, f"{args.show} episode {args.episode}")
    info["jp_video_id"] = info["jp_video_id"] or digests["ja"]
    info["en_video_id"] = info["en_video_id"] or digests["en"]
    episode_id = check_id(args.episode_id, "--episode-id") if args.episode_id else None
    episode_id = episode_id or episode_id_of(show, str(args.episode))
    doc = {
        "format": "dubset-episode/1",
        "episode_id": episode_id,
        "episode_number": str(args.episode),
        "show": show,
        "episode": info,
        "provenance": {},
    }
    return episode_id, canonical_json(doc)


def default_media(clips: dict[str, object], same_file: bool) -> bytes:
    items = clips.get("clips")
    diffs = [
        c["ja_start_ms"] - c["start_ms"]
        for c in (items if isinstance(items, list) else [])
        if isinstance(c, dict)
        and isinstance(c.get("ja_start_ms"), int)
        and isinstance(c.get("start_ms"), int)
    ]
    return canonical_json(
        {
            "format": "dubset-media/1",
            "audio": {"ja": {"audio_position": 0}, "en": {"audio_position": int(same_file)}},
            "offset": {"ja_offset_ms": int(statistics.median_low(diffs)) if diffs else 0},
        }
    )


def publish(src: Path, dest: Path) -> int:
    """Every file under src hard-linked (else copied) to the same place under dest, replacing
    what is there; how many. The work store keeps its copy, so a re-run that the executor
    skips still publishes."""
    count = 0
    for folder, _, names in os.walk(src):
        for name in names:
            path = Path(folder) / name
            target = dest / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".tmp-{name}")
            tmp.unlink(missing_ok=True)
            try:
                os.link(path, tmp)
            except OSError:
                shutil.copyfile(path, tmp)
            os.replace(tmp, target)
            count += 1
    return count


def package(args: argparse.Namespace, work: Path, progress: Progress) -> dict[str, object]:
    for path in (args.ja, args.en):
        if not path.is_file():
            raise InvalidInputError(f"{path}: no such file")
    store = LocalStore(work)
    digests = {"ja": file_sha256(args.ja), "en": file_sha256(args.en)}
    episode_id, episode = episode_doc(args, digests)
    clips = _read(args.clips)
    media = (
        _read(args.media)
        if args.media
        else default_media(_json(args.clips), digests["ja"] == digests["en"])
    )
    docs = {
        "episode": episode,
        "media": media,
        "clips": clips,
        "ja_turns": _read(args.ja_turns),
        "en_turns": _read(args.en_turns),
    }
    inputs = {
        name: store.put_bytes(f"inputs/{name}.json", data, "application/json")
        for name, data in docs.items()
    }
    inputs["ja_video"] = store.put_file("inputs/ja_video", args.ja, "video/mp4")
    inputs["en_video"] = (
        inputs["ja_video"]
        if digests["ja"] == digests["en"]
        else store.put_file("inputs/en_video", args.en, "video/mp4")
    )
    params = packaging_pb2.PackagingParams(
        dataset=WORK_DATASET, video_clips=not args.no_video, audio_bitrate_kbps=args.bitrate
    )
    executor = StageExecutor(
        PackagingStage(),
        store,
        StageMetrics.create(CollectorRegistry(), STAGE),
        max_input_bytes=MAX_INPUT_BYTES,
        hook=lambda fraction, message: progress("package", fraction),
    )
    result = executor.execute(build_request(STAGE, "cli", episode_id, inputs, params))
    manifest = json.loads(store.get_bytes(store.key_of(result.manifest.uri)))
    args.out.mkdir(parents=True, exist_ok=True)
    publish(work / dataset_prefix(WORK_DATASET), args.out)
    info = dict(manifest["info"])
    info["dataset"] = str(args.out)
    info["episode"] = f"episodes/{episode_id}.json"
    info["backend"] = result.backend
    return info


def run(args: argparse.Namespace) -> int:
    progress = Progress()
    try:
        if args.work_dir is not None:
            info = package(args, args.work_dir, progress)
        else:
            with tempfile.TemporaryDirectory(prefix="dubset-package-") as tmp:
                info = package(args, Path(tmp), progress)
    except DubsetError as exc:
        print(f"dubset package: {exc}", file=sys.stderr)
        return 2
    finally:
        progress.close()
    sys.stdout.write(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return 0
