"""The documents of the tts stage: the episode fragment and EN turns in, the baseline fragment out.

Pure (no store, no ffmpeg): the handler fetches the bytes and the mp3 facts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dubset_common import jsondoc
from dubset_common.anim400k import parse_time
from dubset_tts.core.model import ClipDub, ClipSpec, EpisodeDub, Scores, TtsInputError

EPISODE_FRAGMENT_FORMAT = "dubset-dataset-episode/1"
BASELINE_FORMAT = "dubset-dataset-baseline/1"
BASELINE_FOLDER = "anim400k_baseline_clips"
_CLIP_ID = re.compile(r"^([0-9a-f]{2})/(\1[0-9a-f-]{34})$")
_EPISODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_TEXT_CHARS = 2000


@dataclass(frozen=True)
class EpisodeClips:
    """What the tts stage needs of an episode fragment."""

    episode_id: str
    clips: tuple[ClipSpec, ...]


@dataclass(frozen=True)
class ClipFile:
    """One baseline mp3 as written and stored."""

    clip_id: str
    sha256: str
    bytes: int
    duration_ms: int


def clip_path(clip_id: str) -> str:
    """anim400k_baseline_clips/xx/<uuid>.mp3 of an EN clip id (checked: it becomes a key)."""
    if not isinstance(clip_id, str) or not _CLIP_ID.fullmatch(clip_id):
        raise TtsInputError(f"clip id {clip_id!r:.60} is not of the form xx/<uuid>")
    return f"{BASELINE_FOLDER}/{clip_id}.mp3"


def _load(data: bytes, what: str) -> dict[str, object]:
    return jsondoc.load_object(data, what, TtsInputError)


def _str(obj: Mapping[str, object], key: str, where: str) -> str:
    value = obj.get(key, "")
    if not isinstance(value, str):
        raise TtsInputError(f"{where}.{key} must be a string, not {value!r:.40}")
    if len(value) > MAX_TEXT_CHARS:
        raise TtsInputError(f"{where}.{key} is over {MAX_TEXT_CHARS} characters")
    return value


def _time(obj: Mapping[str, object], key: str, where: str) -> int:
    value = obj.get(key)
    try:
        return parse_time(value)  # type: ignore[arg-type]
    except ValueError:
        raise TtsInputError(
            f"{where}.{key} must be a HH:MM:SS.mmm time, not {value!r:.40}"
        ) from None


def _span(obj: Mapping[str, object], lang: str, where: str) -> tuple[int, int]:
    start = _time(obj, f"{lang}_start_time", where)
    end = _time(obj, f"{lang}_end_time", where)
    if end <= start:
        raise TtsInputError(f"{where}: {lang}_end_time must be after {lang}_start_time")
    return start, end


def parse_episode_fragment(data: bytes) -> EpisodeClips:
    """datasets/<ds>/episodes/<episode_id>.json as packaging writes it: its id and clip pairs."""
    doc = _load(data, "episode fragment")
    if doc.get("format") != EPISODE_FRAGMENT_FORMAT:
        raise TtsInputError(
            f"episode fragment format must be {EPISODE_FRAGMENT_FORMAT!r}, not "
            f"{doc.get('format')!r:.40}: give the packaging stage's `episode` output"
        )
    episode_id = doc.get("episode_id")
    if not isinstance(episode_id, str) or not _EPISODE_ID.fullmatch(episode_id):
        raise TtsInputError(f"episode fragment episode_id {episode_id!r:.60} is not a safe id")
    episode = doc.get("episode")
    clips = episode.get("clips") if isinstance(episode, dict) else None
    if not isinstance(clips, list):
        raise TtsInputError("episode fragment episode.clips must be a list")
    out: list[ClipSpec] = []
    seen: set[str] = set()
    for i, item in enumerate(clips):
        where = f"episode fragment clips[{i}]"
        if not isinstance(item, dict):
            raise TtsInputError(f"{where} must be a JSON object")
        clip_id = _str(item, "en_clip", where)
        clip_path(clip_id)
        if clip_id in seen:
            raise TtsInputError(f"{where}: en_clip {clip_id} appears twice")
        seen.add(clip_id)
        speakers = item.get("speakers", [])
        if not isinstance(speakers, list) or not all(isinstance(s, str) for s in speakers):
            raise TtsInputError(f"{where}.speakers must be a list of strings")
        en, ja = _span(item, "en", where), _span(item, "jp", where)
        out.append(
            ClipSpec(
                clip_id=clip_id,
                en_text=_str(item, "en_text", where),
                ja_text=_str(item, "jp_text", where),
                en_start_ms=en[0],
                en_end_ms=en[1],
                ja_start_ms=ja[0],
                ja_end_ms=ja[1],
                speakers=tuple(speakers),
            )
        )
    return EpisodeClips(episode_id, tuple(out))


def parse_turns(data: bytes, language: str = "en") -> tuple[tuple[str, int, int], ...]:
    """A turns.json of the diarization stage as (speaker, start_ms, end_ms)."""
    what = f"{language} turns.json"
    doc = _load(data, what)
    if doc.get("language") not in (None, "", language):
        raise TtsInputError(f"{what} says language {doc.get('language')!r:.20}, not {language!r}")
    turns = doc.get("turns")
    if not isinstance(turns, list):
        raise TtsInputError(f"{what} turns must be a list")
    out = []
    for i, item in enumerate(turns):
        where = f"{what} turns[{i}]"
        if not isinstance(item, dict):
            raise TtsInputError(f"{where} must be a JSON object")
        speaker, start, end = item.get("speaker"), item.get("start_ms"), item.get("end_ms")
        if not isinstance(speaker, str) or not speaker:
            raise TtsInputError(f"{where}.speaker must be a non-empty string")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            raise TtsInputError(f"{where}: start_ms and end_ms must be integers (ms)")
        assert isinstance(start, int) and isinstance(end, int)
        if not 0 <= start < end:
            raise TtsInputError(f"{where}: need 0 <= start_ms < end_ms, got {start}..{end}")
        out.append((speaker, start, end))
    return tuple(out)


def _round(value: float) -> float:
    return round(float(value), 4)


def scores_json(scores: Scores) -> dict[str, float]:
    """The scores that were computed, rounded; an uncomputed one is absent."""
    pairs = (
        ("dnsmos", scores.dnsmos),
        ("duration_ratio", scores.duration_ratio),
        ("speaker_similarity", scores.speaker_similarity),
    )
    return {k: _round(v) for k, v in pairs if v is not None}


def _file_entry(episode_id: str, dub: ClipDub, f: ClipFile, rate: int) -> dict[str, object]:
    return {
        "path": clip_path(f.clip_id),
        "sha256": f.sha256,
        "bytes": f.bytes,
        "duration_ms": f.duration_ms,
        "codec": "mp3",
        "kind": "baseline",
        "language": "en",
        "clip": f.clip_id,
        "episode_id": episode_id,
        "sample_rate": rate,
        "channels": 1,
        "text": dub.text,
        "voice": dub.voice,
        "fits": dub.fits,
        "scores": scores_json(dub.scores),
    }


def baseline_fragment(
    *,
    episode_id: str,
    episode_sha256: str,
    dub: EpisodeDub,
    files: Sequence[ClipFile],
    backend: str,
    translator: str,
    translation_backend: str,
    sample_rate: int,
) -> dict[str, object]:
    """datasets/<ds>/baseline/<episode_id>.json (see contracts): one entry per written mp3."""
    by_id = {c.clip_id: c for c in dub.clips}
    missing = sorted(f.clip_id for f in files if f.clip_id not in by_id)
    if missing:
        raise ValueError(f"mp3s of clips that were not dubbed: {', '.join(missing)}")
    entries = [_file_entry(episode_id, by_id[f.clip_id], f, sample_rate) for f in files]
    voices: dict[str, object] = {}
    for v in dub.voices:
        entry: dict[str, object] = {"voice": v.label}
        if v.similarity is not None:
            entry["similarity"] = _round(v.similarity)
        voices[v.speaker] = entry
    return {
        "format": BASELINE_FORMAT,
        "episode_id": episode_id,
        "episode_sha256": episode_sha256,
        "backend": backend,
        "translation_backend": translator,
        "voices": voices,
        "files": sorted(entries, key=lambda e: str(e["path"])),
        "mean_scores": scores_json(dub.mean_scores),
        "unfit_clips": sorted(dub.unfit_clips),
        "skipped": [{"clip": c, "reason": r} for c, r in sorted(dub.skipped)],
        "provenance": {"tts": backend, "translation": translation_backend},
    }
