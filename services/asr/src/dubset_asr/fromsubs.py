"""The transcript from a subtitle file: its cues aligned to the speech (subalign), with where
each segment's times come from and the speaker names (ASS Actor, WebVTT voice) as hints."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from dubset_asr.core.jsonio import transcript_to_json
from dubset_asr.subalign import SubtitleAligner, SubtitleAlignment, load_aligner
from dubset_common.errors import InvalidInputError
from dubset_common.subtitles import Cue, SubtitleError, check_cues, parse

AlignerLoader = Callable[[str], SubtitleAligner]
SOURCE = "subtitles"


def default_aligner(model: str) -> SubtitleAligner:
    return load_aligner(model)


def read_cues(data: bytes, duration_ms: int, name: str) -> tuple[Cue, ...]:
    """The cues of a subtitle file, checked against the audio; InvalidInputError otherwise."""
    try:
        cues = parse(data, name)
        check_cues(cues, duration_ms, name)
    except SubtitleError as exc:
        raise InvalidInputError(str(exc)) from None
    return cues


def transcript_json(aligned: SubtitleAlignment, cues: Sequence[Cue]) -> dict[str, object]:
    """transcript.json with, per segment, its source and the cue's speaker (when named)."""
    value = transcript_to_json(aligned.transcript)
    ordered = sorted(cues, key=lambda c: (c.start_ms, c.end_ms))
    value["source"] = SOURCE
    value["segment_sources"] = list(aligned.sources)
    value["segment_reasons"] = list(aligned.reasons)
    if len(ordered) == len(aligned.sources) and any(c.actor for c in ordered):
        value["segment_speakers"] = [c.actor for c in ordered]
    return value


def dumps(value: Mapping[str, object]) -> bytes:
    return (json.dumps(value, ensure_ascii=False) + "\n").encode()


def from_subtitles(
    loader: AlignerLoader, model: str, audio: Path, data: bytes, language: str
) -> tuple[bytes, SubtitleAlignment, dict[str, object]]:
    """(transcript.json bytes, the alignment, manifest info) of a subtitle file on audio."""
    if language not in ("ja", "en"):
        raise InvalidInputError("a subtitle transcript needs the language (ja or en) in params")
    aligner = loader(model)
    from dubset_asr.audio import duration_s

    seconds = duration_s(audio)
    if seconds is None:
        raise InvalidInputError("the audio has no duration to check the subtitles against")
    cues = read_cues(data, round(seconds * 1000), "subtitles")
    aligned = aligner.align_file(audio, cues, language)
    sources = aligned.sources
    info: dict[str, object] = {
        **aligner.info(),
        "transcript_source": SOURCE,
        "cues": len(cues),
        "segments_aligned": sum(1 for s in sources if s == "subtitle-aligned"),
        "segments_cue_times": sum(1 for s in sources if s != "subtitle-aligned"),
    }
    return dumps(transcript_json(aligned, cues)), aligned, info
