"""Stage result files (docs/truth-format.md) parsed into typed values; FieldError if malformed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dubset_eval.clips import ClipSpan
from dubset_eval.der import Turn
from dubset_eval.fields import FieldError, array, field, integer, obj, span, string, strings
from dubset_eval.fields import timestamp_ms as _timestamp_ms

_LANGUAGE_NAMES = {
    "ja": "ja",
    "jp": "ja",
    "jpn": "ja",
    "japanese": "ja",
    "en": "en",
    "eng": "en",
    "english": "en",
}


@dataclass(frozen=True)
class Segment:
    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class DatasetClip:
    span: ClipSpan
    jp_clip: str
    en_clip: str
    jp_text: str
    en_text: str
    speakers: tuple[str, ...]


@dataclass(frozen=True)
class DatasetEpisode:
    show: str
    episode: str
    clips: tuple[DatasetClip, ...]


def language_code(value: object) -> str | None:
    """ "ja" or "en" for the usual spellings ("ja-JP", "jpn", "English", ...), else None."""
    if not isinstance(value, str):
        return None
    head = value.strip().lower().replace("_", "-").split("-")[0]
    return _LANGUAGE_NAMES.get(head)


def parse_segments(value: Mapping[str, object]) -> tuple[Segment, ...]:
    """The "segments" of an ASR result."""
    out = []
    for i, item in enumerate(array(value, "segments", "asr")):
        where = f"segments[{i}]"
        d = obj(item, where)
        start, end = span(d, "start_ms", "end_ms", where)
        out.append(Segment(start, end, string(d, "text", where)))
    return tuple(out)


def parse_turns(value: Mapping[str, object]) -> tuple[Turn, ...]:
    """The "turns" of a diarization result; speaker labels may be strings or integers."""
    out = []
    for i, item in enumerate(array(value, "turns", "diarization")):
        where = f"turns[{i}]"
        d = obj(item, where)
        speaker = field(d, "speaker", where)
        if isinstance(speaker, bool) or not isinstance(speaker, str | int):
            raise FieldError(f"{where}.speaker: expected a string, got {speaker!r:.40}")
        start, end = span(d, "start_ms", "end_ms", where)
        out.append(Turn(str(speaker), start, end))
    return tuple(out)


def parse_alignment(value: Mapping[str, object]) -> tuple[ClipSpan, ...]:
    """The "clips" of an alignment result: EN times in start_ms/end_ms, JA in ja_*."""
    out = []
    for i, item in enumerate(array(value, "clips", "alignment")):
        where = f"clips[{i}]"
        d = obj(item, where)
        en = span(d, "start_ms", "end_ms", where)
        ja = span(d, "ja_start_ms", "ja_end_ms", where)
        out.append(ClipSpan(*ja, *en))
    return tuple(out)


def parse_offset(value: Mapping[str, object]) -> int:
    """ja_offset_ms at the top level or under "offset"."""
    if "ja_offset_ms" in value:
        return integer(value, "ja_offset_ms", "offset result")
    return integer(obj(value.get("offset"), "offset"), "ja_offset_ms", "offset")


def _dataset_clip(value: object, where: str) -> DatasetClip:
    d = obj(value, where)
    times = [
        _timestamp_ms(field(d, k, where), f"{where}.{k}")
        for k in ("jp_start_time", "jp_end_time", "en_start_time", "en_end_time")
    ]
    if times[1] < times[0] or times[3] < times[2]:
        raise FieldError(f"{where}: a clip ends before it starts")
    return DatasetClip(
        ClipSpan(*times),
        string(d, "jp_clip", where),
        string(d, "en_clip", where),
        string(d, "jp_text", where),
        string(d, "en_text", where),
        strings(d, "speakers", where),
    )


def parse_annotations(value: object) -> tuple[DatasetEpisode, ...]:
    """Every episode of anim400k_annotations.json, in split, show and episode order."""
    d = obj(value, "annotations")
    out = []
    for split in ("train", "val", "test"):
        for i, show_value in enumerate(array(d, split, "annotations") if split in d else []):
            where = f"{split}[{i}]"
            show = obj(show_value, where)
            name = string(show, "show", where)
            episodes = obj(field(show, "episodes", where), f"{where}.episodes")
            for number, ep_value in episodes.items():
                ep_where = f"{where}.episodes[{number!r}]"
                ep = obj(ep_value, ep_where)
                clips = tuple(
                    _dataset_clip(c, f"{ep_where}.clips[{k}]")
                    for k, c in enumerate(array(ep, "clips", ep_where))
                )
                out.append(DatasetEpisode(name, number, clips))
    return tuple(out)


def select_episode(
    episodes: tuple[DatasetEpisode, ...], show: str, episode_number: int
) -> DatasetEpisode:
    """The episode with the truth's show name and number, else the only one."""
    hits = [e for e in episodes if e.show == show and e.episode == str(episode_number)]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise FieldError(f"{len(hits)} episodes match show {show!r} episode {episode_number}")
    if len(episodes) == 1:
        return episodes[0]
    raise FieldError(
        f"no episode of show {show!r} numbered {episode_number} among {len(episodes)} episodes"
    )
