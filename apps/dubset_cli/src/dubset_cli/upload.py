"""Local episode files into the object store, content-addressed, before a submission."""

from __future__ import annotations

import argparse
import json
import mimetypes
import re
from pathlib import Path

from dubset.v1 import common_pb2, jobs_pb2, tts_pb2
from dubset_common.anim400k_proto import episode_info_to_proto, show_to_proto
from dubset_common.errors import InvalidInputError
from dubset_common.keys import file_sha256, join_key
from dubset_common.objstore import ObjectStore

MAX_SHOW_BYTES = 16 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(path: Path) -> str:
    """A file name an object key can hold: other characters become '_'."""
    name = _UNSAFE.sub("_", path.name).lstrip("._-") or "file"
    return name[:100]


def upload(store: ObjectStore, path: Path, what: str) -> common_pb2.MediaRef:
    """path at uploads/<sha256>/<name>; an object already there with that size is kept."""
    if not path.is_file():
        raise InvalidInputError(f"{what} {path} is not a file")
    digest = file_sha256(path)
    key = join_key("uploads", digest, safe_name(path))
    size = path.stat().st_size
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if not (store.exists(key) and store.size(key) == size):
        store.put_file(key, path, mime)
    return common_pb2.MediaRef(uri=store.uri(key), sha256=digest, size_bytes=size, mime=mime)


def read_show(path: Path) -> dict[str, object]:
    """show.json as a JSON object; InvalidInputError when it is not one."""
    try:
        if path.stat().st_size > MAX_SHOW_BYTES:
            raise InvalidInputError(f"{path} is over {MAX_SHOW_BYTES} bytes")
        value = json.loads(path.read_bytes())
    except OSError as exc:
        raise InvalidInputError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InvalidInputError(f"{path} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInputError(f"{path} must hold a JSON object (an Anim-400K show)")
    return value


def submission(
    show: dict[str, object],
    episode_number: int,
    ja: common_pb2.MediaRef,
    en: common_pb2.MediaRef,
    *,
    dataset: str = "",
    tts: bool = True,
    tts_backend: str = "",
    faces: bool = True,
    quality: bool = True,
) -> jobs_pb2.EpisodeSubmission:
    """The submission of one episode; its info comes from show["episodes"][number] if given."""
    if episode_number < 0:
        raise InvalidInputError(f"the episode number must not be negative ({episode_number})")
    episodes = show.get("episodes", {})
    if not isinstance(episodes, dict):
        raise InvalidInputError("show.episodes must be an object keyed by episode number")
    info = episodes.get(str(episode_number), {})
    if not isinstance(info, dict):
        raise InvalidInputError(f"show.episodes[{episode_number!r}] must be an object")
    sub = jobs_pb2.EpisodeSubmission(
        show=show_to_proto(show),
        episode_number=episode_number,
        episode=episode_info_to_proto(info),
        ja_media=ja,
        en_media=en,
    )
    sub.options.dataset = dataset
    if not tts:  # unset means on, so a default submission keeps its id
        sub.options.run_tts = False
    if not faces:
        sub.options.run_faces = False
    if not quality:
        sub.options.run_quality = False
    if tts_backend:
        sub.options.stage_params["tts"].Pack(tts_pb2.TtsParams(backend=tts_backend))
    return sub


def add_tts_arguments(p: argparse.ArgumentParser) -> None:
    """The submission's baseline-dub options (`dubset run`, `dubset submit`)."""
    p.add_argument(
        "--no-tts", action="store_true", help="skip the baseline English dub (the tts stage)"
    )
    p.add_argument(
        "--no-faces",
        action="store_true",
        help="skip the faces stage (AniVid face clips, who speaks on screen)",
    )
    p.add_argument(
        "--no-quality",
        action="store_true",
        help="skip the quality stage (per clip pair DNSMOS, overlap, re-ASR agreement, score)",
    )
    p.add_argument(
        "--tts-backend",
        default="",
        help="tts backend: piper (default), festival, espeak-ng or yourtts",
    )
