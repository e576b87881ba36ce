"""Deterministic Anim-400K clip ids (uuid5) and the dataset paths of their media.

Contract: a clip id is `xx/<uuid>` with `uuid = uuid5(DUBSET_NAMESPACE,
"<episode_id>/<language>/<start_ms>/<end_ms>/<encoding>")`, where the span is the clamped span
in that language's own timeline and `encoding` is `encoding_digest(...)` of everything that
decides the clip's bytes (bitrates, whether video is cut, the cutter recipe and encoder
version). The same episode packaged twice the same way gets the same ids (a re-run finds its
files in place); packaged with other encoding settings it gets other ids, so two encodings can
never share (and overwrite) a file.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping

from dubset_packaging.core.model import LANGUAGES, Span

DUBSET_NAMESPACE = uuid.UUID("6f1c2a52-3d8e-5b7a-9c41-0d5e6a7b8c9d")
AUDIO_DIR = "anim400k_audio_clips"
VIDEO_DIR = "anim400k_video_clips"
ENCODING_DIGEST_CHARS = 16
_DIGEST = re.compile(rf"^[0-9a-f]{{{ENCODING_DIGEST_CHARS}}}$")


def encoding_digest(settings: Mapping[str, str | int | bool]) -> str:
    """A short, stable digest of encoding settings (canonical JSON, sha256, 16 hex digits)."""
    if not settings:
        raise ValueError("encoding settings must not be empty")
    text = json.dumps(dict(settings), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:ENCODING_DIGEST_CHARS]


def clip_id(episode_id: str, language: str, span: Span, encoding: str) -> str:
    """`xx/<uuid>`: uuid5 of episode, language, the clamped own-timeline span and the
    encoding digest (see the module docstring)."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be ja or en, not {language!r}")
    if not _DIGEST.match(encoding):
        raise ValueError(f"encoding must be an encoding_digest, not {encoding!r:.40}")
    name = f"{episode_id}/{language}/{span.start_ms}/{span.end_ms}/{encoding}"
    u = str(uuid.uuid5(DUBSET_NAMESPACE, name))
    return f"{u[:2]}/{u}"


def audio_path(clip: str) -> str:
    """Where a clip's mp3 lives, relative to the dataset root."""
    return f"{AUDIO_DIR}/{clip}.mp3"


def video_path(clip: str) -> str:
    """Where a clip's mp4 lives, relative to the dataset root."""
    return f"{VIDEO_DIR}/{clip}.mp4"
