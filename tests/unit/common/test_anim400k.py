"""The Anim-400K show/episode values: complete, typed, refusing unknown fields; proto round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dubset.v1 import jobs_pb2
from dubset_common.anim400k import (
    SHOW_FIELDS,
    format_time,
    normalize_episode_info,
    normalize_show,
    parse_time,
)
from dubset_common.anim400k_proto import (
    episode_info_from_proto,
    episode_info_to_proto,
    show_from_proto,
    show_to_proto,
)
from dubset_common.errors import InvalidInputError

FORMAT = Path(__file__).resolve().parents[4] / "shared" / "ANIM400K_FORMAT.md"


def test_a_show_with_only_a_name_gets_every_field_empty_of_its_type() -> None:
    show = normalize_show({"show": "Frieren"})
    assert list(show) == list(SHOW_FIELDS)
    assert show["genres"] == [] and show["score"] == 0.0 and show["rank"] == 0
    assert show["related_anime"] == {} and show["characters"] == {} and show["aired"] == ""


def test_unknown_fields_are_refused_by_name_and_episodes_ignored() -> None:
    with pytest.raises(InvalidInputError, match="unknown fields: colour, studio"):
        normalize_show({"show": "x", "studio": "y", "colour": 1})
    assert "episodes" not in normalize_show({"show": "x", "episodes": {"1": {}}})


@pytest.mark.parametrize(
    ("field", "value"),
    [("score", "9"), ("rank", 1.5), ("rank", True), ("genres", "Drama"), ("genres", [1])],
)
def test_wrong_types_are_refused(field: str, value: object) -> None:
    with pytest.raises(InvalidInputError, match=f"show.{field}"):
        normalize_show({"show": "x", field: value})


def test_empty_show_name_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="must not be empty"):
        normalize_show({"show": "  "})


def test_characters_keep_the_voice_actors_key() -> None:
    show = normalize_show({"show": "x", "characters": {"Aoi": {"Voice Actors": ["A"]}}})
    assert show["characters"] == {
        "Aoi": {"description": "", "role": "", "pic_urls": [], "Voice Actors": ["A"]}
    }
    with pytest.raises(InvalidInputError, match="voice_actors"):
        normalize_show({"show": "x", "characters": {"Aoi": {"voice_actors": []}}})


def test_every_field_of_the_format_document_is_modelled() -> None:
    if not FORMAT.exists():
        pytest.skip("shared/ANIM400K_FORMAT.md is not beside the repository")
    text = FORMAT.read_text()
    section = text.split("## Show object")[1].split("## Episode object")[0]
    for name in SHOW_FIELDS:
        assert f"`{name}" in section or f" {name}" in section or f", {name}" in section, name


def test_proto_round_trip_of_a_generated_show() -> None:
    value = {
        "show": "Kumo no Ue",
        "season": "Kumo no Ue Season 1",
        "genres": ["Drama", "Comedy"],
        "score": 8.5,
        "members": 12,
        "related_anime": {"Sequel": ["Kumo 2"]},
        "characters": {"Aoi": {"role": "Main", "Voice Actors": ["kokoro", "piper"]}},
    }
    assert show_from_proto(show_to_proto(value)) == normalize_show(value)


def test_raw_json_overrides_typed_fields_and_is_validated() -> None:
    msg = show_to_proto({"show": "a"})
    msg.raw_json = json.dumps({"show": "b", "rank": 3})
    assert show_from_proto(msg)["show"] == "b"
    msg.raw_json = json.dumps({"nonsense": 1})
    with pytest.raises(InvalidInputError, match="nonsense"):
        show_from_proto(msg)


def test_episode_info_round_trip_and_ratings_typed() -> None:
    value = {"url": "u", "ratings": {"5": {"ratio": 0.5, "number_of_voters": 10}}}
    info = normalize_episode_info(value)
    assert info["ratings"] == {"5": {"ratio": 0.5, "number_of_voters": 10.0}}
    assert episode_info_from_proto(episode_info_to_proto(value)) == info
    assert isinstance(episode_info_to_proto(value), jobs_pb2.EpisodeInfo)
    with pytest.raises(InvalidInputError, match="ratings"):
        normalize_episode_info({"ratings": {"5": {"ratio": "high"}}})


def test_times_format_like_the_release() -> None:
    assert format_time(0) == "00:00:00.000"
    assert format_time(3_723_004) == "01:02:03.004"
    assert format_time(100 * 3600 * 1000) == "100:00:00.000"
    with pytest.raises(ValueError):
        format_time(-1)
    for bad in ("1:02:03.004", "00:60:00.000", "00:00:00.00", "00:00:00,000"):
        with pytest.raises(ValueError):
            parse_time(bad)


@given(st.integers(min_value=0, max_value=10**10))
def test_time_round_trip(ms: int) -> None:
    assert parse_time(format_time(ms)) == ms
