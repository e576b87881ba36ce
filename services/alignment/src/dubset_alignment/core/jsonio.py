"""Segment lists and alignments as JSON values (the CLI and worker file format)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import replace

from dubset_alignment.core.model import (
    Alignment,
    AlignmentInputError,
    ClipPair,
    Segment,
    Turn,
    Word,
)
from dubset_common.jsondoc import clip_doc

_MAX_SEGMENTS = 1_000_000


def _json(raw: bytes | str, name: str) -> object:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AlignmentInputError(f"{name}: not valid JSON ({exc})") from None


def parse_segments(raw: bytes | str, name: str) -> list[Segment]:
    """Parse `[{"start_ms", "end_ms", "text"}]`, or an ASR output object with a "segments" list."""
    return parse_transcript(raw, name)[0]


def parse_transcript(raw: bytes | str, name: str) -> tuple[list[Segment], list[tuple[int, int]]]:
    """The segments (with their words, when given) and the transcript's speech map (`speech`:
    sorted, disjoint [start_ms, end_ms] pairs; empty when it has none)."""
    value = _json(raw, name)
    speech = _speech(value.get("speech"), name) if isinstance(value, dict) else []
    return _segments(value, name), speech


def _segments(value: object, name: str) -> list[Segment]:
    speakers: object = None
    if isinstance(value, dict) and "segments" in value:
        speakers = value.get("segment_speakers")
        value = value["segments"]
    if not isinstance(value, list):
        raise AlignmentInputError(f"{name}: expected a JSON list of segments")
    if len(value) > _MAX_SEGMENTS:
        raise AlignmentInputError(
            f"{name}: {len(value)} segments is over the limit of {_MAX_SEGMENTS}"
        )
    segments = [_segment(item, f"{name} segment {i}") for i, item in enumerate(value)]
    if speakers is None:
        return segments
    if not (
        isinstance(speakers, list)
        and len(speakers) == len(segments)
        and all(isinstance(s, str) for s in speakers)
    ):
        raise AlignmentInputError(f"{name}: segment_speakers must be one string per segment")
    return [replace(seg, speaker=who) for seg, who in zip(segments, speakers, strict=True)]


def _segment(item: object, where: str) -> Segment:
    if not isinstance(item, dict):
        raise AlignmentInputError(f"{where}: expected an object")
    missing = [k for k in ("start_ms", "end_ms") if k not in item]
    if missing:
        raise AlignmentInputError(f"{where}: missing {', '.join(missing)}")
    text = item.get("text", "")
    start, end = item["start_ms"], item["end_ms"]
    for key, value in (("start_ms", start), ("end_ms", end)):
        if isinstance(value, float) and math.isnan(value):
            raise AlignmentInputError(f"{where}: {key} is NaN")
        if isinstance(value, bool) or not isinstance(value, int):
            raise AlignmentInputError(f"{where}: {key} must be an integer, got {value!r:.40}")
    if not isinstance(text, str):
        raise AlignmentInputError(f"{where}: text must be a string")
    words = item.get("words", [])
    if not isinstance(words, list):
        raise AlignmentInputError(f"{where}: words must be a list")
    return Segment(
        start, end, text, words=tuple(_word(w, f"{where} word {i}") for i, w in enumerate(words))
    )


def _word(item: object, where: str) -> Word:
    if not isinstance(item, dict):
        raise AlignmentInputError(f"{where}: expected an object")
    start, end = _ms(item, "start_ms", where), _ms(item, "end_ms", where)
    text = item.get("text", "")
    if not isinstance(text, str):
        raise AlignmentInputError(f"{where}: text must be a string")
    return Word(start, max(start, end), text)


def _ms(item: dict[str, object], key: str, where: str) -> int:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise AlignmentInputError(f"{where}: {key} must be an integer, got {value!r:.40}")
    return value


def _speech(value: object, name: str) -> list[tuple[int, int]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise AlignmentInputError(f"{name}: speech must be a list of [start_ms, end_ms]")
    out: list[tuple[int, int]] = []
    for i, pair in enumerate(value):
        ok = isinstance(pair, list) and len(pair) == 2
        ok = ok and all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
        if not ok or not 0 <= pair[0] <= pair[1] or (out and pair[0] < out[-1][1]):
            raise AlignmentInputError(
                f"{name}: speech[{i}] must be [start_ms, end_ms], sorted and disjoint"
            )
        out.append((pair[0], pair[1]))
    return out


def parse_turns(raw: bytes | str, name: str) -> list[Turn]:
    """A diarization's turns: `{"turns": [{"start_ms", "end_ms", "speaker"}]}` (or the list)."""
    value = _json(raw, name)
    turns = value.get("turns") if isinstance(value, dict) else value
    if not isinstance(turns, list):
        raise AlignmentInputError(f"{name}: expected a turns list")
    out = []
    for i, item in enumerate(turns):
        where = f"{name} turn {i}"
        if not isinstance(item, dict) or not isinstance(item.get("speaker"), str):
            raise AlignmentInputError(f"{where}: expected an object with a speaker")
        start, end = _ms(item, "start_ms", where), _ms(item, "end_ms", where)
        out.append(Turn(start, max(start, end), item["speaker"]))
    return out


def speaker_hints(
    clip: ClipPair, en: Sequence[Segment], ja: Sequence[Segment]
) -> dict[str, list[str]]:
    """Per language, the names the transcripts give the clip's segments (a subtitle's Actor),
    each once, in segment order; {} when neither names anyone."""
    hints = {}
    for lang, members, segments in (("en", clip.en, en), ("ja", clip.ja, ja)):
        names = [segments[i].speaker for i in members if i < len(segments)]
        if any(names):
            hints[lang] = list(dict.fromkeys(n for n in names if n))
    return hints


def alignment_to_json(
    al: Alignment, en: Sequence[Segment] = (), ja: Sequence[Segment] = ()
) -> dict[str, object]:
    """clips.json's value; a clip whose segments name their speakers gets `speaker_hints`."""
    clips = []
    for c in al.clips:
        hints = speaker_hints(c, en, ja)
        clips.append({**clip_doc(c), "speaker_hints": hints} if hints else clip_doc(c))
    value: dict[str, object] = {
        "clips": clips,
        "unpaired_en": list(al.unpaired_en),
        "unpaired_ja": list(al.unpaired_ja),
    }
    if al.one_sided_en or al.one_sided_ja:
        value["one_sided_en"] = list(al.one_sided_en)
        value["one_sided_ja"] = list(al.one_sided_ja)
    return value


def dumps(al: Alignment, en: Sequence[Segment] = (), ja: Sequence[Segment] = ()) -> bytes:
    """Deterministic JSON bytes, one clip per line, UTF-8 text kept readable; en and ja are the
    aligned segments (for their speaker names)."""
    value = alignment_to_json(al, en, ja)

    def one(v: object) -> str:
        return json.dumps(v, ensure_ascii=False, separators=(", ", ": "))

    clips = value["clips"]
    assert isinstance(clips, list)
    body = ",\n".join(f"  {one(c)}" for c in clips)
    sided = "".join(
        f',\n "{k}": {one(value[k])}' for k in ("one_sided_en", "one_sided_ja") if k in value
    )
    return (
        f'{{"clips": [\n{body}\n ],\n'
        f' "unpaired_en": {one(value["unpaired_en"])},\n'
        f' "unpaired_ja": {one(value["unpaired_ja"])}{sided}}}\n'
    ).encode()
