"""Strict readers of JSON values: each failure names the field that is wrong."""

from __future__ import annotations

import re
from collections.abc import Mapping

_TIMESTAMP = re.compile(r"(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})")


class FieldError(ValueError):
    """A JSON value is missing or has the wrong type; the message says where."""


def obj(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise FieldError(f"{where}: expected an object")
    return value


def field(d: Mapping[str, object], key: str, where: str) -> object:
    if key not in d:
        raise FieldError(f"{where}: missing {key!r}")
    return d[key]


def integer(d: Mapping[str, object], key: str, where: str, *, minimum: int | None = None) -> int:
    value = field(d, key, where)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(f"{where}.{key}: expected an integer, got {value!r:.40}")
    if minimum is not None and value < minimum:
        raise FieldError(f"{where}.{key}: {value} is below {minimum}")
    return value


def string(d: Mapping[str, object], key: str, where: str) -> str:
    value = field(d, key, where)
    if not isinstance(value, str):
        raise FieldError(f"{where}.{key}: expected a string, got {value!r:.40}")
    return value


def array(d: Mapping[str, object], key: str, where: str) -> list[object]:
    value = field(d, key, where)
    if not isinstance(value, list):
        raise FieldError(f"{where}.{key}: expected a list")
    return value


def strings(d: Mapping[str, object], key: str, where: str) -> tuple[str, ...]:
    items = array(d, key, where)
    if not all(isinstance(s, str) for s in items):
        raise FieldError(f"{where}.{key}: expected a list of strings")
    return tuple(str(s) for s in items)


def span(d: Mapping[str, object], start: str, end: str, where: str) -> tuple[int, int]:
    """Two integer times, both >= 0, end >= start."""
    s = integer(d, start, where, minimum=0)
    e = integer(d, end, where, minimum=0)
    if e < s:
        raise FieldError(f"{where}: {end} {e} is before {start} {s}")
    return s, e


def timestamp_ms(value: object, where: str) -> int:
    """Milliseconds of an "HH:MM:SS.mmm" string, parsed strictly."""
    m = _TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        raise FieldError(f"{where}: expected a time HH:MM:SS.mmm, got {value!r:.40}")
    h, mi, s, ms = (int(g) for g in m.groups())
    return ((h * 60 + mi) * 60 + s) * 1000 + ms
