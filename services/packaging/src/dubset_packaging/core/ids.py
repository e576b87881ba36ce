"""Deterministic Anim-400K clip ids (uuid5) and the dataset paths of their media."""

from __future__ import annotations

import uuid

from dubset_packaging.core.model import LANGUAGES, Span

DUBSET_NAMESPACE = uuid.UUID("6f1c2a52-3d8e-5b7a-9c41-0d5e6a7b8c9d")
AUDIO_DIR = "anim400k_audio_clips"
VIDEO_DIR = "anim400k_video_clips"


def clip_id(episode_id: str, language: str, span: Span) -> str:
    """`xx/<uuid>`: uuid5 of episode, language and the clamped own-timeline span."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be ja or en, not {language!r}")
    name = f"{episode_id}/{language}/{span.start_ms}/{span.end_ms}"
    u = str(uuid.uuid5(DUBSET_NAMESPACE, name))
    return f"{u[:2]}/{u}"


def audio_path(clip: str) -> str:
    """Where a clip's mp3 lives, relative to the dataset root."""
    return f"{AUDIO_DIR}/{clip}.mp3"


def video_path(clip: str) -> str:
    """Where a clip's mp4 lives, relative to the dataset root."""
    return f"{VIDEO_DIR}/{clip}.mp4"
