"""The dialogue line bank is well formed, speakable by both TTS voices, and dub-like in length."""

from __future__ import annotations

import re
import statistics

import pytest

from dubset_sample.bank import BankLine, load_bank, validate

pyopenjtalk = pytest.importorskip("pyopenjtalk")

# pyopenjtalk-plus calls a deprecated sudachipy API on its first g2p.
pytestmark = pytest.mark.filterwarnings("ignore:Dictionary.create:DeprecationWarning")

_SMALL_KANA = set("ャュョァィゥェォヮ")
_SENTENCE_END_JA = re.compile(r"[。！？]+")
_SENTENCE_END_EN = re.compile(r"[.!?]+")


def _kana(text: str) -> str:
    return str(pyopenjtalk.g2p(text, kana=True))


def _morae(text: str) -> int:
    """Morae in a JA line: katakana of its reading, small kana folded into the one before."""
    return sum(1 for ch in _kana(text) if "ァ" <= ch <= "ー" and ch not in _SMALL_KANA)


def _ja_sentences(text: str) -> int:
    return len(_SENTENCE_END_JA.findall(text))


@pytest.fixture(scope="module")
def bank() -> tuple[BankLine, ...]:
    return load_bank()


@pytest.fixture(scope="module")
def morae(bank: tuple[BankLine, ...]) -> dict[str, int]:
    return {line.id: _morae(line.ja) for line in bank}


def test_bank_is_big_enough(bank: tuple[BankLine, ...]) -> None:
    assert len(bank) >= 150


def test_load_bank_is_cached(bank: tuple[BankLine, ...]) -> None:
    assert load_bank() is bank


def test_ids_are_unique_and_consecutive(bank: tuple[BankLine, ...]) -> None:
    ids = [line.id for line in bank]
    assert len(set(ids)) == len(ids)
    assert ids == [f"L{i:03d}" for i in range(len(bank))]


def test_texts_are_unique(bank: tuple[BankLine, ...]) -> None:
    assert len({line.ja for line in bank}) == len(bank)
    assert len({line.en for line in bank}) == len(bank)


def test_ja_has_no_latin_letters_or_digits(bank: tuple[BankLine, ...]) -> None:
    for line in bank:
        assert not re.search(r"[A-Za-z0-9Ａ-Ｚａ-ｚ０-９]", line.ja), line
        assert line.ja == line.ja.strip(), line
        assert line.ja[-1] in "。！？", line
        assert len(line.ja) <= 60, line


def test_en_is_plain_ascii_without_digits_or_symbols(bank: tuple[BankLine, ...]) -> None:
    for line in bank:
        assert line.en.isascii(), line
        assert re.fullmatch(r"[A-Za-z ,.!?']+", line.en), line
        assert line.en == line.en.strip(), line
        assert line.en[-1] in ".!?", line


def test_every_ja_line_has_a_reading(bank: tuple[BankLine, ...], morae: dict[str, int]) -> None:
    for line in bank:
        assert _kana(line.ja).strip(), line
        assert morae[line.id] >= 2, line


def test_line_length_mix(bank: tuple[BankLine, ...], morae: dict[str, int]) -> None:
    n = len(bank)
    short = [line for line in bank if morae[line.id] <= 6]
    two = [line for line in bank if morae[line.id] > 6 and _ja_sentences(line.ja) >= 2]
    one = n - len(short) - len(two)
    # Aimed at about 15% / 55% / 30%.
    assert 0.10 <= len(short) / n <= 0.25
    assert 0.40 <= one / n <= 0.70
    assert 0.20 <= len(two) / n <= 0.40
    # Nothing far beyond six seconds of Japanese speech.
    assert max(morae.values()) <= 40


def test_en_length_is_not_proportional_to_ja(
    bank: tuple[BankLine, ...], morae: dict[str, int]
) -> None:
    ratios = [len(line.en.split()) / morae[line.id] for line in bank]
    median = statistics.median(ratios)
    n = len(ratios)
    assert sum(r > 1.3 * median for r in ratios) / n >= 0.20
    assert sum(r < 0.77 * median for r in ratios) / n >= 0.20


def test_some_en_lines_are_much_longer_and_some_much_shorter(
    bank: tuple[BankLine, ...], morae: dict[str, int]
) -> None:
    """A dub line is sometimes a whole extra sentence, sometimes a clipped one."""
    ratios = {line.id: len(line.en.split()) / morae[line.id] for line in bank}
    median = statistics.median(ratios.values())
    much_longer = [i for i, r in ratios.items() if r >= 2 * median]
    much_shorter = [i for i, r in ratios.items() if r <= 0.6 * median and morae[i] >= 12]
    assert len(much_longer) >= 8
    assert len(much_shorter) >= 8


def _good() -> list[object]:
    return [
        {"id": "L000", "ja": "えっ？", "en": "What?"},
        {"id": "L001", "ja": "行くぞ！", "en": "Let's go!"},
    ]


def test_validate_accepts_a_good_bank() -> None:
    assert validate(_good()) == (
        BankLine("L000", "えっ？", "What?"),
        BankLine("L001", "行くぞ！", "Let's go!"),
    )


@pytest.mark.parametrize(
    ("index", "field", "value", "message"),
    [
        (1, "id", "L000", "duplicate id"),
        (0, "ja", "", "empty"),
        (0, "en", "   ", "empty"),
        (0, "ja", "これはOKです。", "Latin"),
        (0, "ja", "あと５分。", "digits"),
        (0, "ja", "あと5分。", "digits"),
        (0, "ja", "ｃａｆｅに行こう。", "Latin"),
        (0, "en", "Café time!", "non-ASCII"),
        (0, "en", "Wait\u2014what?", "non-ASCII"),
        (0, "en", None, "must be a string"),
    ],
)
def test_validate_rejects_a_bad_bank(index: int, field: str, value: object, message: str) -> None:
    entries = _good()
    entry = entries[index]
    assert isinstance(entry, dict)
    entry[field] = value
    with pytest.raises(ValueError, match=message):
        validate(entries)


def test_validate_rejects_missing_fields_and_non_objects() -> None:
    with pytest.raises(ValueError, match="'en' must be a string"):
        validate([{"id": "L000", "ja": "えっ？"}])
    with pytest.raises(ValueError, match="must be an object"):
        validate(["えっ？"])
    with pytest.raises(ValueError, match="no lines"):
        validate([])
