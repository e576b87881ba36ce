"""Lines before the rule (core/lines.py): words regrouped at long pauses, at pauses where the
speaker changes and at pauses both languages share; the stage reads turns and speech maps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import alignment_pb2
from dubset_alignment.core.align import align
from dubset_alignment.core.jsonio import parse_transcript, parse_turns
from dubset_alignment.core.lines import (
    Evidence,
    LineConfig,
    Lines,
    back_to_sources,
    crossings,
    silence_share,
    split_lines,
)
from dubset_alignment.core.model import AlignmentInputError, Segment, Turn, Word
from dubset_alignment.handler import AlignmentStage
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_common.testing.stages import deliver_once
from dubset_common.timemap import Piece, TimeMap


def words(*spans: tuple[int, int, str]) -> tuple[Word, ...]:
    return tuple(Word(a, b, t) for a, b, t in spans)


# One EN segment holding two lines said 250 ms apart (under the 300 ms cut): A, then B.
FUSED = Segment(
    1000,
    3400,
    "Go home. I will stay.",
    words=words(
        (1000, 1400, "Go"), (1400, 2000, "home."), (2250, 2700, "I"), (2700, 3400, "will stay.")
    ),
)  # fmt: skip
FUSED_SPEECH = [(1000, 2000), (2250, 3400)]


def test_a_pause_where_the_speaker_changes_ends_a_line() -> None:
    turns = [Turn(1000, 2000, "A"), Turn(2250, 3400, "B")]
    lines = split_lines([FUSED], Evidence(FUSED_SPEECH, turns), True, 300)
    assert [(s.start_ms, s.end_ms, s.text) for s in lines.segments] == [
        (1000, 2000, "Go home."),
        (2250, 3400, "I will stay."),
    ]
    assert lines.sources == ((0,), (0,))
    # the same pause, one speaker and no other evidence: one line
    same = split_lines([FUSED], Evidence(FUSED_SPEECH, [Turn(1000, 3400, "A")]), True, 300)
    assert [s.text for s in same.segments] == ["Go home. I will stay."]


def test_a_line_starts_up_to_the_onset_lead_before_its_speech_never_before_its_words() -> None:
    early = Segment(
        1000, 3400, FUSED.text, words=(*FUSED.words[:2], Word(2150, 2700, "I"), FUSED.words[3])
    )
    turns = [Turn(1000, 2000, "A"), Turn(2250, 3400, "B")]
    evidence = Evidence(FUSED_SPEECH, turns)
    lead = LineConfig(onset_lead_ms=25)
    starts = [s.start_ms for s in split_lines([early], evidence, True, 300, lead).segments]
    assert starts == [1000, 2225]  # the map's stretch starts 2250; "I" at 2150
    starts = [s.start_ms for s in split_lines([FUSED], evidence, True, 300, lead).segments]
    assert starts == [1000, 2250]  # "I" starts with the stretch: its own start stands


def test_a_pause_both_languages_share_ends_a_line_and_one_the_other_talks_through_does_not() -> (
    None
):
    quiet = silence_share([(0, 1900), (2400, 5000)], lambda t: t + 100)  # JA = EN + 100
    talking = silence_share([(0, 5000)], lambda t: t + 100)
    assert quiet(2000, 2250) == 1.0 and talking(2000, 2250) == 0.0
    cut = split_lines([FUSED], Evidence(FUSED_SPEECH, [], quiet), True, 300)
    kept = split_lines([FUSED], Evidence(FUSED_SPEECH, [], talking), True, 300)
    assert len(cut.segments) == 2 and len(kept.segments) == 1


def test_sentences_of_one_line_split_by_the_recogniser_join_again() -> None:
    # Whisper ended a segment at "out!"; the pause is 200 ms, the same voice goes on.
    a = Segment(
        0, 900, "I'm heading out!", words=words((0, 300, "I'm"), (300, 900, "heading out!"))
    )
    b = Segment(1100, 1800, "See you!", words=words((1100, 1800, "See you!")))
    lines = split_lines([a, b], Evidence([(0, 900), (1100, 1800)], [Turn(0, 1800, "A")]), True, 300)
    assert [(s.start_ms, s.end_ms, s.text) for s in lines.segments] == [
        (0, 1800, "I'm heading out! See you!")
    ]
    assert lines.sources == ((0, 1),)
    # a pause as long as the recogniser's cut always ends a line
    long = split_lines([a, b], Evidence([(0, 800), (1100, 1800)], [Turn(0, 1800, "A")]), True, 300)
    assert len(long.segments) == 2


def test_without_a_speech_map_the_segments_are_the_lines() -> None:
    lines = split_lines(
        [FUSED], Evidence([], [Turn(1000, 2000, "A"), Turn(2250, 3400, "B")]), True, 300
    )
    assert lines == Lines((FUSED,), ((0,),))


def test_japanese_joins_without_spaces_and_a_wordless_segment_is_one_word() -> None:
    a = Segment(0, 500, "行こう", words=words((0, 200, "行"), (200, 500, "こう")))
    b = Segment(700, 1200, "うん")  # no words
    turns = [Turn(0, 500, "A"), Turn(700, 1200, "B")]
    lines = split_lines([a, b], Evidence([(0, 500), (700, 1200)], turns), False, 400)
    assert [s.text for s in lines.segments] == ["行こう", "うん"]
    joined = split_lines([a, b], Evidence([(0, 500), (700, 1200)], []), False, 400)
    assert [s.text for s in joined.segments] == ["行こううん"]


def test_clips_name_the_transcripts_segments() -> None:
    turns = [Turn(1000, 2000, "A"), Turn(2250, 3400, "B")]
    en = split_lines([FUSED], Evidence(FUSED_SPEECH, turns), True, 300)
    ja_segments = [Segment(1000, 1900, "帰れ。"), Segment(2300, 3300, "残る。")]
    ja = split_lines(ja_segments, Evidence([], []), False, 400)
    al = back_to_sources(align(list(en.segments), list(ja.segments)), en, ja)
    assert [(c.en, c.ja, c.en_text) for c in al.clips] == [
        ((0,), (0,), "Go home."),
        ((0,), (1,), "I will stay."),
    ]
    # the paper's rule on the recogniser's segments: one clip of both lines
    assert len(align([FUSED], ja_segments).clips) == 1


def test_crossings_follow_the_offset_or_the_time_map() -> None:
    to_ja, to_en = crossings(700, None)
    assert to_ja(1000) == 1700 and to_en(1700) == 1000
    tm = TimeMap((Piece(0, 10_000, 3000, 13_000),))
    to_ja, to_en = crossings(700, tm)
    assert to_ja(4000) == 1000 and to_en(1000) == 4000
    assert to_ja(1000) is None  # EN before the piece: the JA release has no such moment
    assert silence_share([(0, 10_000)], to_ja)(0, 500) == 0.0  # no evidence there


def test_the_stage_reads_turns_and_speech_maps_and_can_be_asked_for_the_papers_rule(
    tmp_path: Path,
) -> None:
    store = LocalStore(tmp_path / "store")
    executor = StageExecutor(
        AlignmentStage(),
        store,
        StageMetrics.create(CollectorRegistry(), "alignment"),
    )
    en_doc = {
        "language": "en",
        "segments": [
            {"start_ms": s.start_ms, "end_ms": s.end_ms, "text": s.text,
             "words": [{"start_ms": w.start_ms, "end_ms": w.end_ms, "text": w.text,
                        "confidence": 0.9} for w in s.words]}
            for s in [FUSED]
        ],
        "speech": [list(p) for p in FUSED_SPEECH],
    }  # fmt: skip
    ja_doc = {"language": "ja", "segments": [
        {"start_ms": 1000, "end_ms": 1900, "text": "帰れ。"},
        {"start_ms": 2300, "end_ms": 3300, "text": "残る。"},
    ]}  # fmt: skip
    turns = {"turns": [{"start_ms": 1000, "end_ms": 2000, "speaker": "SPEAKER_00"},
                       {"start_ms": 2250, "end_ms": 3400, "speaker": "SPEAKER_01"}]}  # fmt: skip
    refs = {
        "en": store.put_bytes("in/en.json", json.dumps(en_doc).encode(), "application/json"),
        "ja": store.put_bytes("in/ja.json", json.dumps(ja_doc).encode(), "application/json"),
        "en_turns": store.put_bytes("in/t.json", json.dumps(turns).encode(), "application/json"),
    }

    def clips(**params: bool) -> list[dict[str, object]]:
        request = build_request(
            "alignment", "job-1", "ep-1", refs, alignment_pb2.AlignmentParams(**params)
        )
        result = executor.execute(request)
        return list(json.loads(store.get_bytes(store.key_of(result.outputs["clips"].uri)))["clips"])

    assert [c["en_text"] for c in clips()] == ["Go home.", "I will stay."]
    assert [c["en_text"] for c in clips(split_lines=False)] == ["Go home. I will stay."]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"segments": [], "speech": "all of it"}, "speech must be a list"),
        ({"segments": [], "speech": [[500, 100]]}, r"speech\[0\] must be"),
        ({"segments": [], "speech": [[0, 500], [400, 900]]}, "sorted and disjoint"),
        ({"segments": [], "speech": [[0, True]]}, r"speech\[0\] must be"),
        ({"segments": [{"start_ms": 0, "end_ms": 5, "words": {}}]}, "words must be a list"),
        (
            {"segments": [{"start_ms": 0, "end_ms": 5, "words": [{"start_ms": "0"}]}]},
            "word 0: start_ms must be an integer",
        ),
    ],
)
def test_a_malformed_speech_map_or_word_is_refused_with_the_place(
    doc: dict[str, object], message: str
) -> None:
    with pytest.raises(AlignmentInputError, match=message):
        parse_transcript(json.dumps(doc), "en.json")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{", "not valid JSON"),
        (b'{"turns": 3}', "expected a turns list"),
        (b'{"turns": [{"start_ms": 0, "end_ms": 5}]}', "turn 0: expected an object with a speaker"),
        (b'[{"start_ms": 0.5, "end_ms": 5, "speaker": "A"}]', "start_ms must be an integer"),
    ],
)
def test_malformed_turns_are_refused_with_the_place(raw: bytes, message: str) -> None:
    with pytest.raises(AlignmentInputError, match=message):
        parse_turns(raw, "en_turns")


def test_the_stage_fails_a_request_with_malformed_turns_as_invalid_input(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    metrics = StageMetrics.create(CollectorRegistry(), "alignment")
    executor = StageExecutor(AlignmentStage(), store, metrics)
    refs = {
        "en": store.put_bytes("in/en.json", b"[]", "application/json"),
        "ja": store.put_bytes("in/ja.json", b"[]", "application/json"),
        "ja_turns": store.put_bytes("in/t.json", b'{"turns": 3}', "application/json"),
    }
    request = build_request("alignment", "job-1", "ep-1", refs, alignment_pb2.AlignmentParams())
    delivered = deliver_once(executor, request)
    assert delivered.result.error_code == "INVALID_INPUT"
    assert "ja_turns: expected a turns list" in delivered.result.error_message
    assert not store.list("stages")
