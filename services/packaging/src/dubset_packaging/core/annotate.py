"""The episode document in, the episode fragment out: Anim-400K clip objects and file entries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dubset_common.anim400k import format_time, normalize_episode_info, normalize_show
from dubset_common.errors import InvalidInputError
from dubset_common.keys import check_id
from dubset_packaging.core.docs import get_obj, get_str, load_object
from dubset_packaging.core.model import PackagingInputError, PlannedClip

EPISODE_FORMAT = "dubset-episode/1"
FRAGMENT_FORMAT = "dubset-dataset-episode/1"


@dataclass(frozen=True)
class EpisodeDoc:
    """The episode document the jobs service writes (normalized)."""

    episode_id: str
    episode_number: str
    show: dict[str, object]
    episode: dict[str, object]
    provenance: dict[str, str]


@dataclass(frozen=True)
class FileEntry:
    """One media file of the dataset as the fragment and the manifest list it."""

    path: str
    sha256: str
    bytes: int
    duration_ms: int
    codec: str
    kind: str
    language: str
    clip: str

    def to_json(self, episode_id: str) -> dict[str, object]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "duration_ms": self.duration_ms,
            "codec": self.codec,
            "kind": self.kind,
            "language": self.language,
            "clip": self.clip,
            "episode_id": episode_id,
        }


def parse_episode(data: bytes) -> EpisodeDoc:
    """The episode document: format, a safe episode_id, number, show, episode, provenance."""
    doc = load_object(data, "episode document")
    if doc.get("format") != EPISODE_FORMAT:
        raise PackagingInputError(
            f"episode document format must be {EPISODE_FORMAT!r}, not {doc.get('format')!r:.40}"
        )
    episode_id = get_str(doc, "episode_id", "episode document")
    try:
        check_id(episode_id, "episode document episode_id")
    except InvalidInputError as exc:
        raise PackagingInputError(str(exc)) from None
    number = doc.get("episode_number")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    if not isinstance(number, str) or not number.strip():
        raise PackagingInputError("episode document episode_number must be a non-empty string")
    provenance = get_obj(doc, "provenance", "episode document") if "provenance" in doc else {}
    if not all(isinstance(v, str) for v in provenance.values()):
        raise PackagingInputError("episode document provenance must map task names to strings")
    try:
        show = normalize_show(get_obj(doc, "show", "episode document"), "episode document show")
        info = normalize_episode_info(
            get_obj(doc, "episode", "episode document"), "episode document episode"
        )
    except InvalidInputError as exc:
        raise PackagingInputError(str(exc)) from None
    prov = {str(k): str(v) for k, v in provenance.items()}
    return EpisodeDoc(episode_id, number, show, info, prov)


def clip_object(clip: PlannedClip) -> dict[str, object]:
    """One clip exactly as ANIM400K_FORMAT.md has it, each time in its own video's timeline."""
    return {
        "jp_clip": clip.jp_clip,
        "en_clip": clip.en_clip,
        "jp_text": clip.ja_text,
        "en_text": clip.en_text,
        "jp_start_time": format_time(clip.ja.start_ms),
        "jp_end_time": format_time(clip.ja.end_ms),
        "en_start_time": format_time(clip.en.start_ms),
        "en_end_time": format_time(clip.en.end_ms),
        "speakers": list(clip.speakers),
    }


def fragment(
    doc: EpisodeDoc,
    clips: Sequence[PlannedClip],
    files: Sequence[FileEntry],
    backend: str,
    tracks: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """The episode fragment datasets/<dataset>/episodes/<episode_id>.json (see contracts);
    tracks (lang → the audio track the media stage chose) go in the provenance."""
    episode = dict(doc.episode)
    episode["clips"] = [clip_object(c) for c in clips]
    return {
        "format": FRAGMENT_FORMAT,
        "episode_id": doc.episode_id,
        "episode_number": doc.episode_number,
        "show": doc.show,
        "episode": episode,
        "files": [f.to_json(doc.episode_id) for f in sorted(files, key=lambda f: f.path)],
        "provenance": {
            **doc.provenance,
            "packaging": backend,
            **{f"{lang}_track": t for lang, t in sorted((tracks or {}).items())},
        },
    }
