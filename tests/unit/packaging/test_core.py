"""Pure packaging core: ids, times, speakers, clamping, the fragment's shape, batching."""

from __future__ import annotations

import itertools
import json
import re
import uuid

import pytest

from dubset_common.anim400k import SHOW_FIELDS, parse_time
from dubset_packaging.core.annotate import FileEntry, fragment, parse_episode
from dubset_packaging.core.batches import plan_batches
from dubset_packaging.core.clips import plan_clips
from dubset_packaging.core.docs import parse_clips, parse_media, parse_turns
from dubset_packaging.core.ids import (
    DUBSET_NAMESPACE,
    audio_path,
    clip_id,
    encoding_digest,
    video_path,
)
from dubset_packaging.core.model import ClipPair, PackagingInputError, Span, Turn
from dubset_packaging.core.speakers import clip_speakers, map_ja_speakers, name_speakers
from dubset_packaging.cutter import Encoding
from tests.unit.packaging.helpers import episode_doc, media_doc

ID = re.compile(r"^([0-9a-f]{2})/([0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12})$")
ENC = encoding_digest(Encoding().settings(video=True, encoder="ffmpeg-test"))
SHOW = {"show": "Test Show", "season": "Test Show Season 1", "episodes": {"3": {"url": "u"}}}


def pair(en: tuple[int, int], ja: tuple[int, int], text: str = "hi") -> ClipPair:
    return ClipPair(Span(*en), Span(*ja), text, "やあ")


def test_clip_ids_are_deterministic_uuid5_with_their_folder() -> None:
    a = clip_id("ep1", "ja", Span(1000, 2500), ENC)
    assert a == clip_id("ep1", "ja", Span(1000, 2500), ENC)
    m = ID.match(a)
    assert m and m[2].startswith(m[1])
    assert m[2] == str(uuid.uuid5(DUBSET_NAMESPACE, f"ep1/ja/1000/2500/{ENC}"))
    others = {
        clip_id("ep1", "en", Span(1000, 2500), ENC),
        clip_id("ep2", "ja", Span(1000, 2500), ENC),
        clip_id("ep1", "ja", Span(1000, 2501), ENC),
    }
    assert a not in others
    assert audio_path(a) == f"anim400k_audio_clips/{a}.mp3"
    assert video_path(a) == f"anim400k_video_clips/{a}.mp4"


def test_other_encoding_settings_never_share_a_clip_id() -> None:
    """Two jobs packaging one episode with other settings must write other files."""
    base = Encoding()
    variants = [
        base.settings(video=True, encoder="ffmpeg-test"),
        base.settings(video=False, encoder="ffmpeg-test"),
        Encoding(audio_bitrate_kbps=64).settings(video=True, encoder="ffmpeg-test"),
        base.settings(video=True, encoder="ffmpeg-other"),
        {**base.settings(video=True, encoder="ffmpeg-test"), "cutter": "next"},
    ]
    digests = [encoding_digest(v) for v in variants]
    assert digests[0] == ENC and all(re.fullmatch("[0-9a-f]{16}", d) for d in digests)
    ids = {clip_id("ep1", "ja", Span(1000, 2500), d) for d in digests}
    assert len(ids) == len(variants)
    with pytest.raises(ValueError, match="encoding"):
        clip_id("ep1", "ja", Span(1000, 2500), "")


def test_plan_orders_by_en_time_and_clamps_into_each_video() -> None:
    clips = [pair((5000, 6000), (4500, 5500)), pair((100, 900), (-300, 500))]
    plan = plan_clips("ep", clips, {"ja": 5200, "en": 10_000}, [], [], -500, encoding=ENC)
    assert [c.en for c in plan.clips] == [Span(100, 900), Span(5000, 6000)]
    assert plan.clips[0].ja == Span(0, 500)  # negative JA start clamped
    assert plan.clips[1].ja == Span(4500, 5200)  # past the JA end clamped
    assert plan.clips[0].jp_clip == clip_id("ep", "ja", Span(0, 500), ENC)
    assert plan.dropped == 0


def test_a_clip_under_100_ms_after_clamping_is_dropped_and_counted() -> None:
    clips = [pair((1000, 2000), (1000, 2000)), pair((8000, 9000), (9950, 10_950))]
    plan = plan_clips("ep", clips, {"ja": 10_000, "en": 10_000}, [], [], 0, encoding=ENC)
    assert len(plan.clips) == 1 and plan.dropped == 1


def test_a_clip_wholly_outside_a_video_is_refused() -> None:
    with pytest.raises(PackagingInputError, match="outside the en video"):
        plan_clips("ep", [pair((20_000, 21_000), (100, 900))], {"ja": 9000, "en": 9000}, [], [], 0,
                   encoding=ENC)  # fmt: skip


def test_repeated_clips_are_refused() -> None:
    clips = [pair((1000, 2000), (1000, 2000))] * 2
    with pytest.raises(PackagingInputError, match="must not repeat"):
        plan_clips("ep", clips, {"ja": 9000, "en": 9000}, [], [], 0, encoding=ENC)


def test_ja_speakers_take_the_en_label_they_overlap_most() -> None:
    en = [Turn(0, 2000, "SPEAKER_00"), Turn(3000, 5000, "SPEAKER_01")]
    # JA timeline = EN + 1000; JA "B" overlaps SPEAKER_01, "A" SPEAKER_00, "C" nobody.
    ja = [Turn(1000, 3000, "A"), Turn(4000, 6000, "B"), Turn(20_000, 21_000, "C")]
    assert map_ja_speakers(en, ja, 1000) == {"A": "SPEAKER_00", "B": "SPEAKER_01", "C": "JA_C"}


def test_ja_speakers_move_through_the_time_map_and_not_from_one_sided_stretches() -> None:
    from dubset_common.timemap import Piece, TimeMap

    # A 3 s card in the dub at EN 2000-5000: JA = EN before it, JA = EN - 3000 after it.
    tm = TimeMap((Piece(0, 2000, 0, 2000), Piece(2000, 9000, 5000, 12000)))
    en = [Turn(0, 2000, "SPEAKER_00"), Turn(6000, 8000, "SPEAKER_01")]
    # "B" at JA 3000-5000 is EN 6000-8000 through the map (with the offset alone it would
    # overlap nobody); "C" speaks where the map has no piece.
    ja = [Turn(0, 2000, "A"), Turn(3000, 5000, "B"), Turn(9500, 9900, "C")]
    assert map_ja_speakers(en, ja, 0, tm) == {"A": "SPEAKER_00", "B": "SPEAKER_01", "C": "JA_C"}
    assert map_ja_speakers(en, ja, 0)["B"] == "JA_B"


def test_a_speaker_heard_only_in_ja_gets_the_episode_level_id() -> None:
    en = [Turn(0, 2000, "SPEAKER_00"), Turn(3000, 5000, "SPEAKER_01")]
    ja = [Turn(0, 2000, "X"), Turn(3000, 5000, "Y"), Turn(8000, 9000, "Y")]
    mapping = map_ja_speakers(en, ja, 0)
    # EN diarization missed the speaker in 8-9 s; JA found Y, which is SPEAKER_01.
    got = clip_speakers(Span(8000, 9000), Span(8000, 9000), en, ja, mapping)
    assert got == ("SPEAKER_01",)


def test_a_turn_grazing_a_clip_edge_is_not_a_speaker_of_it() -> None:
    en = [Turn(0, 2050, "SPEAKER_00"), Turn(2000, 4000, "SPEAKER_01")]
    got = clip_speakers(Span(2000, 4000), Span(2000, 4000), en, [], {})
    assert got == ("SPEAKER_01",)


def test_fragment_matches_the_anim400k_clip_and_episode_format() -> None:
    doc = parse_episode(episode_doc(SHOW, "3", "test-ep-3"))
    en = [Turn(0, 3000, "SPEAKER_00")]
    plan = plan_clips("test-ep-3", [pair((1000, 2500), (2000, 3500))], {"ja": 9000, "en": 9000},
                      en, [], 1000, encoding=ENC)  # fmt: skip
    c = plan.clips[0]
    f = FileEntry(audio_path(c.en_clip), "0" * 64, 10, 1500, "mp3", "audio", "en", c.en_clip)
    frag = json.loads(json.dumps(fragment(doc, plan.clips, [f], "ffmpeg-x")))
    assert frag["format"] == "dubset-dataset-episode/1"
    assert frag["episode_id"] == "test-ep-3" and frag["episode_number"] == "3"
    assert list(frag["show"]) == list(SHOW_FIELDS)
    episode = frag["episode"]
    assert set(episode) == {"url", "ratings", "jp_video_id", "en_video_id", "synopsis", "clips"}
    clip = episode["clips"][0]
    types = {"jp_clip": str, "en_clip": str, "jp_text": str, "en_text": str,
             "jp_start_time": str, "jp_end_time": str, "en_start_time": str, "en_end_time": str,
             "speakers": list}  # fmt: skip
    assert set(clip) == set(types)
    assert all(isinstance(clip[k], t) for k, t in types.items())
    assert ID.match(clip["jp_clip"]) and ID.match(clip["en_clip"])
    assert clip["jp_start_time"] == "00:00:02.000" and parse_time(clip["en_end_time"]) == 2500
    assert clip["speakers"] == ["SPEAKER_00"]
    assert frag["files"][0]["episode_id"] == "test-ep-3"
    assert frag["provenance"]["packaging"] == "ffmpeg-x"


@pytest.mark.parametrize(
    ("parse", "data", "reason"),
    [
        (parse_clips, b"{not json", "not valid JSON"),
        (
            parse_clips,
            b'{"clips": [{"start_ms": 1, "end_ms": 5}]}',
            "ja_start_ms must be an integer",
        ),
        (
            parse_clips,
            b'{"clips": [{"start_ms": 5, "end_ms": 1, "ja_start_ms": 0, "ja_end_ms": 9}]}',
            "must be after",
        ),
        (parse_media, b'{"audio": {"ja": {"stream_index": 1}}}', "audio.en"),
        (lambda d: parse_turns(d, "ja"), b'{"language": "en", "turns": []}', "expected 'ja'"),
        (parse_episode, episode_doc(SHOW, "3", "x").replace(b'"x"', b'"../x"'), "episode_id"),
        (parse_episode, b'{"format": "other"}', "dubset-episode/1"),
        (
            parse_clips,
            b'{"clips": [{"start_ms": 0, "end_ms": 9, "ja_start_ms": 0, "ja_end_ms": 9, '
            b'"speaker_hints": {"en": "Aoi"}}]}',
            "speaker_hints must map languages to lists of names",
        ),
    ],
)
def test_malformed_documents_are_refused_with_the_reason(parse, data, reason) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PackagingInputError, match=re.escape(reason)):
        parse(data)


def test_media_doc_gives_streams_and_offset() -> None:
    media = parse_media(media_doc(1500, ja_stream=1, en_stream=2))
    assert media.audio["en"].index == 2 and media.ja_offset_ms == 1500


def test_batches_are_bounded_cover_every_clip_once_and_split_at_long_gaps() -> None:
    spans = [Span(i * 3000, i * 3000 + 2000) for i in range(50)] + [Span(500_000, 501_000)]
    batches = plan_batches(spans, 8)
    assert all(len(b.items) <= 8 for b in batches)
    assert sorted(i for b in batches for i in b.items) == list(range(51))
    assert batches[-1].items == (50,)  # after a 350 s gap a new batch seeks instead of decoding
    assert all(a.end_ms <= b.start_ms for a, b in itertools.pairwise(batches))
    assert len(batches) == 8


def test_subtitle_names_name_the_ids_they_agree_on() -> None:
    clips = parse_clips(
        json.dumps({"clips": [
            {"start_ms": a, "end_ms": b, "ja_start_ms": a, "ja_end_ms": b, "speaker_hints": h}
            for a, b, h in [
                (0, 2000, {"en": ["Aoi"], "ja": ["Aoi"]}),
                (3000, 4000, {"en": ["Aoi"]}),
                (5000, 6000, {"en": ["Ren"]}),  # a mislabelled cue, outvoted
                (7000, 9000, {"en": ["Kai"]}),
                (10000, 11000, {"en": ["Kai", "Ren"]}),  # two names: no vote
                (12000, 13000, {"en": ["Mio"]}),
                (14000, 15000, {"en": ["Sora"]}),  # a tie splits SPEAKER_03: no name
            ]
        ]}).encode()
    )  # fmt: skip
    assert clips[0].hints == ("Aoi",)
    turns = [
        Turn(0, 6000, "SPEAKER_00"),
        Turn(7000, 11000, "SPEAKER_01"),
        Turn(12000, 15000, "SPEAKER_03"),
    ]
    plan = plan_clips("ep", clips, {"ja": 20000, "en": 20000}, turns, [], 0, encoding=ENC)
    assert [c.hints for c in plan.clips][4] == ("Kai", "Ren")
    assert name_speakers(plan.clips) == {"SPEAKER_00": "Aoi", "SPEAKER_01": "Kai"}
