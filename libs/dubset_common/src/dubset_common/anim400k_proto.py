"""Anim-400K show and episode values to and from the protobuf messages of jobs.proto."""

from __future__ import annotations

import json
from collections.abc import Mapping

from google.protobuf import json_format, struct_pb2

from dubset.v1 import jobs_pb2
from dubset_common.anim400k import SHOW_FIELDS, normalize_episode_info, normalize_show
from dubset_common.errors import InvalidInputError

# Fields whose proto name differs from the JSON key, or that need more than a plain copy.
_SPECIAL = frozenset({"characters", "related_anime"})


def show_to_proto(value: Mapping[str, object]) -> jobs_pb2.Show:
    """A show object (validated by normalize_show first) as a Show message."""
    show = normalize_show(value)
    msg = jobs_pb2.Show()
    for name in SHOW_FIELDS:
        if name in _SPECIAL:
            continue
        field = show[name]
        if isinstance(field, list):
            getattr(msg, name).extend(field)
        else:
            setattr(msg, name, field)
    related = show["related_anime"]
    assert isinstance(related, dict)
    msg.related_anime.update(related)
    characters = show["characters"]
    assert isinstance(characters, dict)
    for cname, c in characters.items():
        entry = msg.characters[cname]
        entry.description = c["description"]
        entry.role = c["role"]
        entry.pic_urls.extend(c["pic_urls"])
        entry.voice_actors.extend(c["Voice Actors"])
    return msg


def show_from_proto(msg: jobs_pb2.Show) -> dict[str, object]:
    """The normalized show object of a Show message; raw_json keys override typed fields."""
    value: dict[str, object] = {}
    for name in SHOW_FIELDS:
        if name in _SPECIAL:
            continue
        field = getattr(msg, name)
        value[name] = list(field) if not isinstance(field, str | int | float) else field
    value["related_anime"] = _struct(msg.related_anime)
    value["characters"] = {
        cname: {
            "description": c.description,
            "role": c.role,
            "pic_urls": list(c.pic_urls),
            "Voice Actors": list(c.voice_actors),
        }
        for cname, c in sorted(msg.characters.items())
    }
    if msg.raw_json:
        try:
            raw = json.loads(msg.raw_json)
        except ValueError as exc:
            raise InvalidInputError(f"show.raw_json is not JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise InvalidInputError("show.raw_json must be a JSON object")
        value.update({k: v for k, v in raw.items() if k != "episodes"})
    return normalize_show(value)


def episode_info_to_proto(value: Mapping[str, object]) -> jobs_pb2.EpisodeInfo:
    info = normalize_episode_info(value)
    msg = jobs_pb2.EpisodeInfo()
    for name in ("url", "synopsis", "jp_video_id", "en_video_id"):
        setattr(msg, name, info[name])
    ratings = info["ratings"]
    assert isinstance(ratings, dict)
    for score, r in ratings.items():
        msg.ratings[score].ratio = r["ratio"]
        msg.ratings[score].number_of_voters = r["number_of_voters"]
    return msg


def episode_info_from_proto(msg: jobs_pb2.EpisodeInfo) -> dict[str, object]:
    return normalize_episode_info(
        {
            "url": msg.url,
            "synopsis": msg.synopsis,
            "jp_video_id": msg.jp_video_id,
            "en_video_id": msg.en_video_id,
            "ratings": {
                score: {"ratio": r.ratio, "number_of_voters": r.number_of_voters}
                for score, r in msg.ratings.items()
            },
        }
    )


def _struct(value: struct_pb2.Struct) -> dict[str, object]:
    out = json_format.MessageToDict(value)
    assert isinstance(out, dict)
    return out
