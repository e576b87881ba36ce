"""The Anim-400K show, episode and time formats as plain values: complete, typed, no surprises."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from dubset_common.errors import InvalidInputError

# The show object's keys except "episodes", in the order of the format (ANIM400K_FORMAT.md).
SHOW_FIELDS: dict[str, type] = {
    "show": str,
    "season": str,
    "link": str,
    "type": str,
    "status": str,
    "genres": list,
    "themes": list,
    "score": float,
    "scored_by": int,
    "rank": int,
    "popularity": int,
    "members": int,
    "favorites": int,
    "episode_num": int,
    "aired": str,
    "premiered": str,
    "broadcast": str,
    "producers": list,
    "licensors": list,
    "studios": list,
    "source": str,
    "avg_duration": str,
    "rating": str,
    "related_anime": dict,
    "opening_themes": list,
    "ending_themes": list,
    "staff": list,
    "background": str,
    "synopsis": str,
    "characters": dict,
}
CHARACTER_FIELDS: dict[str, type] = {
    "description": str,
    "role": str,
    "pic_urls": list,
    "Voice Actors": list,
}
EPISODE_INFO_FIELDS: dict[str, type] = {
    "url": str,
    "ratings": dict,
    "synopsis": str,
    "jp_video_id": str,
    "en_video_id": str,
}
_RATING_FIELDS: dict[str, type] = {"ratio": float, "number_of_voters": float}
MAX_TEXT_CHARS = 100_000
_TIME = re.compile(r"^(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})$")


def _empty(kind: type) -> object:
    return kind()


def _value(kind: type, value: object, where: str) -> object:
    """value checked against kind; ints are accepted where floats are expected."""
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError(f"{where} must be a number, not {value!r:.40}")
        if not math.isfinite(value):
            raise InvalidInputError(f"{where} must be finite")
        return float(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInputError(f"{where} must be an integer, not {value!r:.40}")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise InvalidInputError(f"{where} must be a string, not {value!r:.40}")
        if len(value) > MAX_TEXT_CHARS:
            raise InvalidInputError(f"{where} is over {MAX_TEXT_CHARS} characters")
        return value
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInputError(f"{where} must be a list of strings")
        return list(value)
    if not isinstance(value, dict):
        raise InvalidInputError(f"{where} must be an object, not {value!r:.40}")
    return value


def _fields(
    value: object, fields: Mapping[str, type], where: str, ignore: frozenset[str] = frozenset()
) -> dict[str, object]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{where} must be a JSON object")
    unknown = sorted(str(k) for k in value if k not in fields and k not in ignore)
    if unknown:
        raise InvalidInputError(
            f"{where} has unknown fields: {', '.join(unknown)}; "
            f"the Anim-400K fields are {', '.join(fields)}"
        )
    return {
        name: _value(kind, value[name], f"{where}.{name}") if name in value else _empty(kind)
        for name, kind in fields.items()
    }


def _json_tree(value: object, where: str, depth: int = 0) -> object:
    """A JSON value made of dicts, lists, strings, numbers, booleans and null, bounded in depth."""
    if depth > 16:
        raise InvalidInputError(f"{where} is nested too deeply")
    if isinstance(value, dict):
        return {str(k): _json_tree(v, f"{where}.{k}", depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_tree(v, where, depth + 1) for v in value]
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise InvalidInputError(f"{where} holds a value JSON cannot carry: {value!r:.40}")


def normalize_show(value: Mapping[str, object], where: str = "show") -> dict[str, object]:
    """Every show field present (a missing one empty of its type), types checked, "episodes"
    ignored, unknown fields refused by name."""
    show = _fields(value, SHOW_FIELDS, where, ignore=frozenset({"episodes"}))
    if not str(show["show"]).strip():
        raise InvalidInputError(f"{where}.show (the show's name) must not be empty")
    show["related_anime"] = _json_tree(show["related_anime"], f"{where}.related_anime")
    characters = show["characters"]
    assert isinstance(characters, dict)
    show["characters"] = {
        str(name): _fields(c, CHARACTER_FIELDS, f"{where}.characters[{name!r}]")
        for name, c in characters.items()
    }
    return show


def normalize_episode_info(
    value: Mapping[str, object], where: str = "episode"
) -> dict[str, object]:
    """url, ratings ({score: {ratio, number_of_voters}}), synopsis and the two video ids; "clips"
    (pipeline output) is ignored."""
    info = _fields(value, EPISODE_INFO_FIELDS, where, ignore=frozenset({"clips"}))
    ratings = info["ratings"]
    assert isinstance(ratings, dict)
    info["ratings"] = {
        str(score): _fields(r, _RATING_FIELDS, f"{where}.ratings[{score!r}]")
        for score, r in sorted(ratings.items(), key=lambda kv: str(kv[0]))
    }
    return info


def format_time(ms: int) -> str:
    """Milliseconds as HH:MM:SS.mmm (hours grow past 99 rather than wrap)."""
    if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
        raise ValueError(f"a time must be a non-negative integer of milliseconds, not {ms!r}")
    seconds, milli = divmod(ms, 1000)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours:02d}:{minute:02d}:{sec:02d}.{milli:03d}"


def parse_time(text: str) -> int:
    """HH:MM:SS.mmm as milliseconds; ValueError when it is not exactly that."""
    m = _TIME.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"{text!r:.40} is not a HH:MM:SS.mmm time")
    hours, minutes, seconds, milli = (int(g) for g in m.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + milli
