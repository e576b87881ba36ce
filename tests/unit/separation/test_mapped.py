"""Dual-dub through a time map: a card inserted into the dub, a PAL speed-up."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from dubset_common.timemap import Piece, TimeMap
from dubset_separation.core.audio import AudioSource
from dubset_separation.core.separate import separate
from tests.unit.separation.synth import RATE, bed, dialogue, read, si_sdr, write

CARD_AT_S, CARD_S = 6.0, 2.37  # not a whole bar of the 1 s bed: the lag is unambiguous


def _separate(tmp: Path, time_map: TimeMap | None) -> dict[str, object]:
    out = tmp / ("mapped" if time_map else "offset")
    out.mkdir()
    with AudioSource(tmp / "ja.wav", "ja") as ja, AudioSource(tmp / "en.wav", "en") as en:
        return separate({"ja": ja, "en": en}, out, backend="dualdub", time_map=time_map).to_json()


def test_a_card_in_the_dub_is_separated_through_the_map(tmp_path: Path) -> None:
    b = bed(16.0)
    at, card = int(CARD_AT_S * RATE), int(CARD_S * RATE)
    sting = 0.08 * np.sin(2 * np.pi * 523 * np.arange(card) / RATE)
    en_b = np.concatenate([b[:at], sting, b[at:]])
    ja_d, en_d = dialogue(16.0, seed=3), dialogue(len(en_b) / RATE, seed=4)
    write(tmp_path / "ja.wav", b + ja_d)
    write(tmp_path / "en.wav", en_b + en_d)
    card_ms, at_ms = round(CARD_S * 1000), round(CARD_AT_S * 1000)
    tm = TimeMap(
        (Piece(0, at_ms, 0, at_ms), Piece(at_ms, 16000, at_ms + card_ms, 16000 + card_ms)),
        en_only=((at_ms, at_ms + card_ms),),
    )
    result = _separate(tmp_path, tm)
    langs = result["languages"]
    assert isinstance(langs, dict)
    assert abs(langs["en"]["fallback_seconds"] - CARD_S) < 0.01  # only the card: REPET
    assert langs["ja"]["fallback_seconds"] == 0.0
    _separate(tmp_path, None)
    after = slice(at + card + RATE, None)  # the EN track after the card
    mapped = read(tmp_path / "mapped" / "en_dialogue.wav")[after]
    offset = read(tmp_path / "offset" / "en_dialogue.wav")[after]
    truth = en_d[after]
    assert si_sdr(mapped, truth) > si_sdr(offset, truth) + 6
    assert si_sdr(mapped, truth) > si_sdr((en_b + en_d)[after], truth) + 5


def test_a_pal_speed_up_is_separated_through_the_ratio(tmp_path: Path) -> None:
    pal = Fraction(24000, 1001) / 25
    b = bed(16.0)
    en_b = resample_poly(b, pal.numerator, pal.denominator)
    ja_d, en_d = dialogue(16.0, seed=5), dialogue(len(en_b) / RATE, seed=6)
    write(tmp_path / "ja.wav", b + ja_d)
    write(tmp_path / "en.wav", en_b + en_d)
    tm = TimeMap((Piece(0, 16000, 0, round(16000 * pal)),))
    _separate(tmp_path, tm)
    dia = read(tmp_path / "mapped" / "en_dialogue.wav")
    n = min(len(dia), len(en_d)) - RATE
    assert si_sdr(dia[RATE:n], en_d[RATE:n]) > si_sdr((en_b + en_d)[RATE:n], en_d[RATE:n]) + 5
