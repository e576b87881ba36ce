"""EpisodeSubmission → an admitted job: ids checked, show normalized, media resolved."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import json_format

from dubset.v1 import common_pb2, jobs_pb2
from dubset_common.errors import InvalidInputError, NotFoundError
from dubset_common.keys import canonical_json, check_id, file_sha256, sha256_hex
from dubset_common.objstore import ObjectStore
from dubset_jobs.convert import spec_of
from dubset_jobs.core.ids import client_id, episode_id_for, job_id_for
from dubset_jobs.core.model import JobSpec

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
NAMES = {
    "ja": "JA video",
    "en": "EN video",
    "ja_subtitles": "JA subtitles",
    "en_subtitles": "EN subtitles",
}
MAX_SUBTITLE_BYTES = 16 * 1024 * 1024
# A job's state (its submission included) must fit one message on the state topic (the broker
# takes 1 MiB by default); task state and output refs need far less than the rest.
MAX_SUBMISSION_BYTES = 256 * 1024


@dataclass(frozen=True)
class Admitted:
    job_id: str
    spec: JobSpec
    submission: jobs_pb2.EpisodeSubmission  # filled in: ids, sha256s, sizes


def admit(
    submission: jobs_pb2.EpisodeSubmission, store: ObjectStore, max_media_bytes: int
) -> Admitted:
    """Validate a submission; slow (it may hash the videos), so never on the consumer thread.

    A media ref that carries a sha256 is trusted here: the media stage checks every byte
    against it when it fetches the video (a mismatch fails the job with INTEGRITY), so hashing
    a multi-GB file twice is avoided. A ref without one is hashed here by streaming.
    """
    sub = jobs_pb2.EpisodeSubmission()
    sub.CopyFrom(submission)
    _check_size(sub)
    if sub.submission_id:
        client_id(sub.submission_id, "submission id")
    if sub.episode_number < 0:
        raise InvalidInputError(f"episode_number must not be negative ({sub.episode_number})")
    if sub.options.dataset:
        check_id(sub.options.dataset, "dataset name")
    if sub.options.HasField("run_tts") and sub.options.run_tts:
        sub.options.ClearField("run_tts")  # true is the default: the same job as unset
    if sub.options.HasField("run_quality") and sub.options.run_quality:
        sub.options.ClearField("run_quality")  # true is the default: the same job as unset
    default_faces = sub.options.kind != jobs_pb2.JOB_KIND_DUB
    if sub.options.HasField("run_faces") and sub.options.run_faces == default_faces:
        sub.options.ClearField("run_faces")  # the kind's default: the same job as unset
    # Normalizes the show and episode info (unknown show keys are named) and the overrides.
    spec = spec_of(sub)
    name = spec.show.get("show")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("show.show (the show's name) is required")
    season = spec.show.get("season")
    if sub.episode_id:
        client_id(sub.episode_id, "episode id")
    else:
        sub.episode_id = episode_id_for(name, str(season or ""), sub.episode_number)
    _resolve_media(sub, store, max_media_bytes)
    # JA and EN may be one file: a dual-audio release (the media stage picks the tracks).
    spec = spec_of(sub)
    _check_size(sub)
    identity: dict[str, object] = {
        "submission_id": sub.submission_id,
        "show": dict(spec.show),
        "episode": dict(spec.episode),
        "episode_number": sub.episode_number,
        "options": json_format.MessageToDict(sub.options, preserving_proto_field_name=True),
    }
    if spec.subtitles:  # absent otherwise: a plain submission keeps its job id
        identity["subtitles"] = {lang: ref.sha256 for lang, ref in spec.subtitles.items()}
    digest = sha256_hex(canonical_json(identity))
    job_id = job_id_for(sub.episode_id, sub.ja_media.sha256, sub.en_media.sha256, digest)
    return Admitted(job_id, spec, sub)


def _resolve_media(sub: jobs_pb2.EpisodeSubmission, store: ObjectStore, max_bytes: int) -> None:
    """Every media ref checked against the store (sizes, sha256s filled in). A dub job has the
    Japanese episode alone."""
    dub = sub.options.kind == jobs_pb2.JOB_KIND_DUB
    if dub and sub.en_media.uri:
        raise InvalidInputError(
            "a dub job takes the Japanese episode alone: leave en_media empty (official English "
            "subtitles go in en_subtitles)"
        )
    _resolve("ja", sub.ja_media, store, max_bytes)
    if not dub:
        _resolve("en", sub.en_media, store, max_bytes)
    for what, field in (("ja_subtitles", sub.ja_subtitles), ("en_subtitles", sub.en_subtitles)):
        if field.uri:
            _resolve(what, field, store, MAX_SUBTITLE_BYTES)


def _check_size(sub: jobs_pb2.EpisodeSubmission) -> None:
    size = sub.ByteSize()
    if size > MAX_SUBMISSION_BYTES:
        raise InvalidInputError(
            f"the submission is {size} bytes serialized, over the limit of {MAX_SUBMISSION_BYTES} "
            f"({MAX_SUBMISSION_BYTES // 1024} KiB); shorten the show and episode metadata "
            "(synopses, characters, extra keys)"
        )


def _resolve(lang: str, ref: common_pb2.MediaRef, store: ObjectStore, limit: int) -> None:
    what = f"the {NAMES[lang]}"
    if not ref.uri:
        raise InvalidInputError(f"{what} is missing: set {lang}_media.uri")  # media only
    key = store.key_of(ref.uri)
    try:
        size = store.size(key)
    except NotFoundError:
        raise NotFoundError(f"{what} {ref.uri} does not exist") from None
    if size > limit:
        raise InvalidInputError(f"{what} {ref.uri} is {size} bytes, over the limit of {limit}")
    if size == 0:
        raise InvalidInputError(f"{what} {ref.uri} is empty (0 bytes)")
    if ref.size_bytes and ref.size_bytes != size:
        raise InvalidInputError(
            f"{what} {ref.uri} is {size} bytes, not the {ref.size_bytes} the submission says"
        )
    ref.size_bytes = size
    if ref.sha256:
        if not _SHA256.fullmatch(ref.sha256):
            raise InvalidInputError(f"{what}: sha256 must be 64 lower-case hex digits")
        return
    with tempfile.TemporaryDirectory(prefix="dubset-jobs-") as tmp:
        path = Path(tmp) / "media"
        store.get_file(key, path)
        ref.sha256 = file_sha256(path)
