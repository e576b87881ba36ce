"""The JSON documents the packaging stage reads, parsed into checked domain values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dubset_common import jsondoc
from dubset_common.timemap import TimeMap, TimeMapError
from dubset_packaging.core.model import LANGUAGES, ClipPair, PackagingInputError, Span, Turn


@dataclass(frozen=True)
class AudioChoice:
    """Which audio stream of a video holds a language: an absolute stream index (what media.json
    records), or else the n-th audio stream (position; used when no media.json exists)."""

    index: int | None = None
    position: int = 0


@dataclass(frozen=True)
class MediaDoc:
    """What packaging needs of media.json: the audio stream used per language and the offset."""

    audio: Mapping[str, AudioChoice]
    ja_offset_ms: int
    tracks: Mapping[str, str] = field(default_factory=dict)  # lang → the track, described
    time_map: TimeMap | None = None  # when the timelines differ by more than the offset


def load_object(data: bytes, what: str) -> dict[str, object]:
    """A JSON object from bytes, or PackagingInputError naming the document."""
    return jsondoc.load_object(data, what, PackagingInputError)


def get_int(obj: Mapping[str, object], key: str, where: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PackagingInputError(f"{where}.{key} must be an integer (ms), not {value!r:.40}")
    return value


def get_str(obj: Mapping[str, object], key: str, where: str, default: str | None = None) -> str:
    value = obj.get(key, default)
    if not isinstance(value, str):
        raise PackagingInputError(f"{where}.{key} must be a string, not {value!r:.40}")
    return value


def get_obj(obj: Mapping[str, object], key: str, where: str) -> dict[str, object]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise PackagingInputError(f"{where}.{key} must be a JSON object, not {value!r:.40}")
    return value


def get_list(obj: Mapping[str, object], key: str, where: str) -> list[object]:
    value = obj.get(key)
    if not isinstance(value, list):
        raise PackagingInputError(f"{where}.{key} must be a list, not {value!r:.40}")
    return value


def _span(obj: Mapping[str, object], start: str, end: str, where: str) -> Span:
    span = Span(get_int(obj, start, where), get_int(obj, end, where))
    if span.end_ms <= span.start_ms:
        raise PackagingInputError(
            f"{where}: {end} ({span.end_ms}) must be after {start} ({span.start_ms})"
        )
    return span


def parse_media(data: bytes) -> MediaDoc:
    """media.json of the media stage: audio.<lang>.stream_index (or audio_position, the n-th
    audio stream) and offset.ja_offset_ms."""
    doc = load_object(data, "media.json")
    audio = get_obj(doc, "audio", "media.json")
    streams = {}
    for lang in LANGUAGES:
        entry = get_obj(audio, lang, "media.json audio")
        key = "stream_index" if "stream_index" in entry else "audio_position"
        number = get_int(entry, key, f"media.json audio.{lang}")
        if number < 0:
            raise PackagingInputError(f"media.json audio.{lang}.{key} is negative")
        streams[lang] = (
            AudioChoice(index=number) if key == "stream_index" else AudioChoice(position=number)
        )
    offset = get_int(get_obj(doc, "offset", "media.json"), "ja_offset_ms", "media.json offset")
    tracks = {}
    for lang in LANGUAGES:
        track = get_str(get_obj(audio, lang, "media.json audio"), "track", "media.json", "")
        if track:
            tracks[lang] = track[:200]
    time_map = None
    if doc.get("time_map") is not None:
        try:
            time_map = TimeMap.from_json(doc["time_map"], "media.json time_map")
        except TimeMapError as exc:
            raise PackagingInputError(str(exc)) from None
        if time_map.constant_offset_ms is not None:
            time_map = None  # one constant piece: the offset says it all
    return MediaDoc(streams, offset, tracks, time_map)


def parse_clips(data: bytes) -> list[ClipPair]:
    """clips.json of the alignment stage: EN times in start_ms/end_ms, JA in ja_*_ms."""
    doc = load_object(data, "clips.json")
    clips = []
    for i, item in enumerate(get_list(doc, "clips", "clips.json")):
        where = f"clips.json clips[{i}]"
        if not isinstance(item, dict):
            raise PackagingInputError(f"{where} must be a JSON object")
        clips.append(
            ClipPair(
                en=_span(item, "start_ms", "end_ms", where),
                ja=_span(item, "ja_start_ms", "ja_end_ms", where),
                en_text=get_str(item, "en_text", where, ""),
                ja_text=get_str(item, "ja_text", where, ""),
                hints=_hints(item.get("speaker_hints", {}), where),
            )
        )
    return clips


def _hints(value: object, where: str) -> tuple[str, ...]:
    """A clip's `speaker_hints` ({"en": [names], "ja": [names]}) as one list of names."""
    if not isinstance(value, dict) or not all(
        isinstance(names, list) and all(isinstance(n, str) and n for n in names)
        for names in value.values()
    ):
        raise PackagingInputError(f"{where}.speaker_hints must map languages to lists of names")
    return tuple(dict.fromkeys(n for lang in sorted(value) for n in value[lang]))


def parse_turns(data: bytes, language: str) -> list[Turn]:
    """turns.json of the diarization stage of one language."""
    what = f"{language} turns.json"
    doc = load_object(data, what)
    stated = doc.get("language")
    if stated not in (None, "", language):
        raise PackagingInputError(f"{what} says language {stated!r:.20}, expected {language!r}")
    turns = []
    for i, item in enumerate(get_list(doc, "turns", what)):
        where = f"{what} turns[{i}]"
        if not isinstance(item, dict):
            raise PackagingInputError(f"{where} must be a JSON object")
        span = _span(item, "start_ms", "end_ms", where)
        speaker = get_str(item, "speaker", where)
        if not speaker:
            raise PackagingInputError(f"{where}.speaker is empty")
        turns.append(Turn(span.start_ms, span.end_ms, speaker))
    return turns
