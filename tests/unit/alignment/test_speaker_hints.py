"""Speaker names a transcript gives its segments (a subtitle's Actor) travel on the clips."""

from __future__ import annotations

import json

import pytest

from dubset_alignment.core.align import align
from dubset_alignment.core.jsonio import dumps, parse_segments
from dubset_alignment.core.model import AlignmentInputError


def _transcript(segments: list[tuple[int, int, str]], speakers: list[str] | None) -> bytes:
    value: dict[str, object] = {
        "segments": [{"start_ms": a, "end_ms": b, "text": t} for a, b, t in segments]
    }
    if speakers is not None:
        value["segment_speakers"] = speakers
    return json.dumps(value).encode()


def test_a_clip_carries_the_names_of_its_segments_once_each_in_order() -> None:
    en = parse_segments(
        _transcript([(0, 900, "Hi."), (950, 1800, "There."), (5000, 6000, "Bye.")],
                     ["Aoi", "Aoi", ""]),
        "en",
    )  # fmt: skip
    ja = parse_segments(_transcript([(0, 1800, "やあ"), (5000, 6000, "またね")], None), "ja")
    clips = json.loads(dumps(align(en, ja), en, ja))["clips"]
    assert clips[0]["speaker_hints"] == {"en": ["Aoi"]}
    assert "speaker_hints" not in clips[1]  # its one segment names nobody


def test_without_names_the_clips_are_the_bytes_they_always_were() -> None:
    en = parse_segments(_transcript([(0, 900, "Hi.")], None), "en")
    ja = parse_segments(_transcript([(0, 900, "やあ")], None), "ja")
    assert dumps(align(en, ja), en, ja) == dumps(align(en, ja))


@pytest.mark.parametrize("speakers", [["Aoi"], [1, 2], "Aoi"])
def test_speakers_that_do_not_fit_the_segments_are_refused(speakers: object) -> None:
    raw = json.dumps(
        {"segments": [{"start_ms": 0, "end_ms": 1}, {"start_ms": 2, "end_ms": 3}],
         "segment_speakers": speakers}
    ).encode()  # fmt: skip
    with pytest.raises(AlignmentInputError, match="segment_speakers"):
        parse_segments(raw, "en")
