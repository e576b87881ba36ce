"""The time map of edited releases: a card inserted, a PAL speed-up, nothing shared."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from dubset_common.timemap import TimeMap
from dubset_media.core.episodemap import estimate_map, same_episode
from dubset_media.core.model import NotSameEpisodeError
from dubset_media.core.offset import estimate_offset

from .conftest import INTRO_MS, Episode

pytestmark = pytest.mark.slow
RATE = 16_000
PAL = Fraction(24000, 1001) / 25


def _tracks(episode: Episode) -> tuple[np.ndarray, np.ndarray]:
    ja, _ = sf.read(episode.ja_wav, dtype="float32")
    en, _ = sf.read(episode.en_wav, dtype="float32")
    return en, ja


def _estimate(en: np.ndarray, ja: np.ndarray) -> TimeMap:
    return estimate_map(en, ja, RATE, known=estimate_offset(en, ja, RATE))


def _error_ms(got: TimeMap, truth: TimeMap, ja_ms: int) -> list[float]:
    """|got(t) - truth(t)| every 100 ms of JA time both maps hold."""
    out = []
    for t in range(0, ja_ms, 100):
        a, b = got.to_en(t), truth.to_en(t)
        if a is not None and b is not None:
            out.append(abs(a - b))
    return out


def test_a_plain_pair_is_one_constant_piece(episode: Episode) -> None:
    en, ja = _tracks(episode)
    m = _estimate(en, ja)
    assert m.constant_offset_ms is not None and abs(m.constant_offset_ms - INTRO_MS) <= 20
    assert m.ja_only[0] == (0, m.pieces[0].ja_start_ms)


def test_a_card_inserted_in_the_dub_splits_the_map(episode: Episode) -> None:
    en, ja = _tracks(episode)
    at = len(en) // 2
    card = (0.2 * np.sin(2 * np.pi * 660 * np.arange(3 * RATE) / RATE)).astype(np.float32)
    m = _estimate(np.concatenate([en[:at], card, en[at:]]), ja)
    at_ms = at * 1000 // RATE
    truth = TimeMap.from_json(
        {
            "pieces": [
                {"ja_start_ms": INTRO_MS, "ja_end_ms": INTRO_MS + at_ms, "en_start_ms": 0,
                 "en_end_ms": at_ms},
                {"ja_start_ms": INTRO_MS + at_ms, "ja_end_ms": len(ja) * 1000 // RATE,
                 "en_start_ms": at_ms + 3000, "en_end_ms": len(en) * 1000 // RATE + 3000},
            ]
        }
    )  # fmt: skip
    assert len(m.pieces) == 2 and same_episode(m)
    (card_span,) = [s for s in m.en_only if s[1] - s[0] >= 1000]
    assert abs(card_span[0] - at_ms) <= 40 and abs(card_span[1] - at_ms - 3000) <= 40
    errors = _error_ms(m, truth, len(ja) * 1000 // RATE)
    assert np.percentile(errors, 95) <= 40, np.percentile(errors, 95)


@pytest.mark.parametrize("pitch_corrected", [False, True])
def test_a_pal_speed_up_is_a_ratio(episode: Episode, tmp_path: Path, pitch_corrected: bool) -> None:
    en, ja = _tracks(episode)
    if pitch_corrected:
        sf.write(tmp_path / "en.wav", en, RATE)
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(tmp_path / "en.wav"), "-af",
             f"atempo={float(1 / PAL)}", str(tmp_path / "pal.wav")],
            check=True,
        )  # fmt: skip
        fast, _ = sf.read(tmp_path / "pal.wav", dtype="float32")
    else:
        fast = resample_poly(en, PAL.numerator, PAL.denominator).astype(np.float32)
    m = _estimate(fast, ja)
    assert len(m.pieces) == 1 and m.constant_offset_ms is None and same_episode(m)
    assert abs(float(m.pieces[0].rate) - float(PAL)) < 0.001
    ja_ms = len(ja) * 1000 // RATE
    truth = TimeMap.from_json(
        {"pieces": [{"ja_start_ms": INTRO_MS, "ja_end_ms": ja_ms, "en_start_ms": 0,
                     "en_end_ms": round((ja_ms - INTRO_MS) * PAL)}]}
    )  # fmt: skip
    assert np.percentile(_error_ms(m, truth, ja_ms), 95) <= 40


def test_two_episodes_that_share_no_stretch_are_refused(
    episode: Episode, other_episode_en: Path, tmp_path: Path
) -> None:
    _en, ja = _tracks(episode)
    wav = tmp_path / "other.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(other_episode_en), "-ac", "1", "-ar",
         str(RATE), str(wav)],
        check=True,
    )  # fmt: skip
    other, _ = sf.read(wav, dtype="float32")
    with pytest.raises(NotSameEpisodeError, match="no stretch"):
        _estimate(other, ja)
