"""The dialogue line bank: JA lines and their EN dub lines, read from data/lines.json."""

from __future__ import annotations

import functools
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

BANK_RESOURCE = "data/lines.json"


@dataclass(frozen=True)
class BankLine:
    """One line of dialogue: its Japanese original and its English dub line."""

    id: str
    ja: str
    en: str


def _is_latin_or_digit(ch: str) -> bool:
    """True for any Latin letter (ASCII, full-width, accented) or any decimal digit."""
    return ch.isdecimal() or unicodedata.name(ch, "").startswith(("LATIN ", "FULLWIDTH LATIN "))


def _field(entry: dict[str, object], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        raise ValueError(f"line bank: {where}: {key!r} must be a string, got {value!r}")
    if not value.strip():
        raise ValueError(f"line bank: {where}: {key!r} is empty")
    return value


def validate(entries: Iterable[object]) -> tuple[BankLine, ...]:
    """Check raw bank entries and turn them into BankLines; ValueError on the first problem."""
    lines: list[BankLine] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"entry {index}"
        if not isinstance(entry, dict):
            raise ValueError(f"line bank: {where} must be an object, got {type(entry).__name__}")
        line_id = _field(entry, "id", where)
        where = f"entry {index} ({line_id})"
        if line_id in seen:
            raise ValueError(f"line bank: duplicate id {line_id!r} at entry {index}")
        seen.add(line_id)
        ja = _field(entry, "ja", where)
        en = _field(entry, "en", where)
        bad_ja = sorted({ch for ch in ja if _is_latin_or_digit(ch)})
        if bad_ja:
            raise ValueError(f"line bank: {where}: JA text has Latin letters or digits {bad_ja}")
        if not en.isascii():
            bad_en = sorted({ch for ch in en if not ch.isascii()})
            raise ValueError(f"line bank: {where}: EN text has non-ASCII characters {bad_en}")
        lines.append(BankLine(id=line_id, ja=ja, en=en))
    if not lines:
        raise ValueError("line bank: no lines")
    return tuple(lines)


@functools.cache
def load_bank() -> tuple[BankLine, ...]:
    """The packaged line bank, validated; read once per process."""
    text = resources.files("dubset_sample").joinpath(BANK_RESOURCE).read_text(encoding="utf-8")
    raw = json.loads(text)
    if not isinstance(raw, list):
        raise ValueError(f"line bank: {BANK_RESOURCE} must hold a JSON list")
    return validate(raw)
