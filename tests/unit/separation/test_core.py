"""The separation core on generated pairs: quality, exactness, offsets, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset_separation.core import tracks as sep_module
from dubset_separation.core.audio import AudioSource
from dubset_separation.core.model import SeparationInputError
from dubset_separation.core.separate import choose_backend, separate
from tests.unit.separation.synth import RATE, bed, dialogue, pair, read, si_sdr, write


def _run(tmp: Path, backend: str = "", offset: int = 0, **files: Path) -> dict[str, object]:
    out = tmp / "out"
    out.mkdir(exist_ok=True)
    sources = {lang: AudioSource(path, lang) for lang, path in files.items()}
    try:
        return separate(sources, out, backend=backend, ja_offset_ms=offset).to_json()
    finally:
        for s in sources.values():
            s.close()


def _pcm(path: Path) -> np.ndarray:
    data, _ = sf.read(path, dtype="int16")
    return np.asarray(data, dtype=np.int32)


def test_dualdub_recovers_both_stems_and_sums_exactly(tmp_path: Path) -> None:
    stems = pair(tmp_path)
    result = _run(tmp_path, ja=tmp_path / "ja.wav", en=tmp_path / "en.wav")
    assert result["backend"] == "dualdub"
    out = tmp_path / "out"
    for lang in ("ja", "en"):
        mix = stems[f"{lang}_backing"] + stems[f"{lang}_dialogue"]
        backing = read(out / f"{lang}_backing.wav")
        dia = read(out / f"{lang}_dialogue.wav")
        assert si_sdr(backing, stems[f"{lang}_backing"]) > si_sdr(mix, stems[f"{lang}_backing"]) + 8
        assert si_sdr(dia, stems[f"{lang}_dialogue"]) > si_sdr(mix, stems[f"{lang}_dialogue"]) + 5
        total = _pcm(out / f"{lang}_dialogue.wav") + _pcm(out / f"{lang}_backing.wav")
        assert np.array_equal(total, _pcm(tmp_path / f"{lang}.wav"))


def test_dualdub_uses_the_offset_and_falls_back_to_repet_only_on_the_intro(
    tmp_path: Path,
) -> None:
    stems = pair(tmp_path, offset_ms=1500)
    result = _run(tmp_path, offset=1500, ja=tmp_path / "ja.wav", en=tmp_path / "en.wav")
    langs = result["languages"]
    assert isinstance(langs, dict)
    assert langs["ja"]["fallback_seconds"] == pytest.approx(1.5, abs=0.01)
    assert langs["ja"]["fallback_backend"] == "repet"
    assert langs["en"]["fallback_seconds"] == 0.0
    assert langs["ja"]["residual_lag_ms"] == 0.0
    en_b = read(tmp_path / "out" / "en_backing.wav")
    en_mix = stems["en_backing"] + stems["en_dialogue"]
    assert si_sdr(en_b, stems["en_backing"]) > si_sdr(en_mix, stems["en_backing"]) + 8


def test_dualdub_refines_a_slightly_wrong_offset(tmp_path: Path) -> None:
    pair(tmp_path, offset_ms=1500)
    result = _run(tmp_path, offset=1480, ja=tmp_path / "ja.wav", en=tmp_path / "en.wav")
    langs = result["languages"]
    assert isinstance(langs, dict)
    assert langs["ja"]["residual_lag_ms"] == pytest.approx(-20.0, abs=0.1)
    assert langs["en"]["residual_lag_ms"] == pytest.approx(20.0, abs=0.1)


def test_other_rates_and_stereo_are_accepted(tmp_path: Path) -> None:
    stems = pair(tmp_path)
    en = read(tmp_path / "en.wav")
    from scipy.signal import resample_poly

    en48 = resample_poly(en, 3, 1)
    sf.write(tmp_path / "en48.wav", np.stack([en48, en48], axis=1), 48000, subtype="PCM_16")
    result = _run(tmp_path, ja=tmp_path / "ja.wav", en=tmp_path / "en48.wav")
    langs = result["languages"]
    assert isinstance(langs, dict)
    assert (langs["en"]["sample_rate"], langs["en"]["channels"]) == (48000, 2)
    assert sf.info(tmp_path / "out" / "en_backing.wav").samplerate == 48000
    ja_b = read(tmp_path / "out" / "ja_backing.wav")
    ja_mix = stems["ja_backing"] + stems["ja_dialogue"]
    assert si_sdr(ja_b, stems["ja_backing"]) > si_sdr(ja_mix, stems["ja_backing"]) + 8


def test_repet_on_one_track_improves_the_backing(tmp_path: Path) -> None:
    stems = pair(tmp_path)
    result = _run(tmp_path, en=tmp_path / "en.wav")
    assert result["backend"] == "repet"
    assert not (tmp_path / "out" / "ja_backing.wav").exists()
    mix = stems["en_backing"] + stems["en_dialogue"]
    backing = read(tmp_path / "out" / "en_backing.wav")
    assert si_sdr(backing, stems["en_backing"]) > si_sdr(mix, stems["en_backing"]) + 1


def test_chunked_processing_matches_and_is_deterministic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stems = pair(tmp_path)
    monkeypatch.setattr(sep_module, "CHUNK_SECONDS", 3.0)
    monkeypatch.setattr(sep_module, "MARGIN_SECONDS", 0.5)
    _run(tmp_path, ja=tmp_path / "ja.wav", en=tmp_path / "en.wav")
    first = (tmp_path / "out" / "ja_backing.wav").read_bytes()
    backing = read(tmp_path / "out" / "ja_backing.wav")
    ja_mix = stems["ja_backing"] + stems["ja_dialogue"]
    assert si_sdr(backing, stems["ja_backing"]) > si_sdr(ja_mix, stems["ja_backing"]) + 8
    total = _pcm(tmp_path / "out" / "ja_dialogue.wav") + _pcm(tmp_path / "out" / "ja_backing.wav")
    assert np.array_equal(total, _pcm(tmp_path / "ja.wav"))
    _run(tmp_path, ja=tmp_path / "ja.wav", en=tmp_path / "en.wav")
    assert (tmp_path / "out" / "ja_backing.wav").read_bytes() == first


def test_music_only_gives_silent_dialogue(tmp_path: Path) -> None:
    b = bed(6.0)
    write(tmp_path / "ja.wav", b)
    write(tmp_path / "en.wav", b)
    _run(tmp_path, ja=tmp_path / "ja.wav", en=tmp_path / "en.wav")
    dia = read(tmp_path / "out" / "ja_dialogue.wav")
    assert np.sqrt(np.mean(dia**2)) < 0.01 * np.sqrt(np.mean(b**2))


def test_dualdub_without_one_language_is_a_clear_error(tmp_path: Path) -> None:
    pair(tmp_path)
    with pytest.raises(SeparationInputError, match=r"dualdub needs both.*en missing"):
        _run(tmp_path, "dualdub", ja=tmp_path / "ja.wav")
    with pytest.raises(SeparationInputError, match="no audio"):
        choose_backend("", set())
    with pytest.raises(SeparationInputError, match="unknown backend"):
        choose_backend("demucs", {"ja"})


def test_silent_or_unrelated_other_track_is_a_clear_error(tmp_path: Path) -> None:
    pair(tmp_path)
    write(tmp_path / "silent.wav", np.zeros(RATE * 12))
    with pytest.raises(SeparationInputError, match="en track is silent"):
        _run(tmp_path, ja=tmp_path / "ja.wav", en=tmp_path / "silent.wav")
    other = bed(12.0, seed=9)[::-1] + dialogue(12.0, seed=7)
    write(tmp_path / "other.wav", other)
    with pytest.raises(SeparationInputError, match="share no backing"):
        _run(tmp_path, ja=tmp_path / "ja.wav", en=tmp_path / "other.wav")


def test_silence_alone_gives_silent_stems(tmp_path: Path) -> None:
    write(tmp_path / "silent.wav", np.zeros(RATE * 3))
    result = _run(tmp_path, ja=tmp_path / "silent.wav")
    langs = result["languages"]
    assert isinstance(langs, dict)
    assert langs["ja"]["silent"] is True
    assert not np.any(read(tmp_path / "out" / "ja_backing.wav"))


def test_unreadable_or_empty_audio_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "junk.wav").write_bytes(b"RIFF not really")
    with pytest.raises(SeparationInputError, match="cannot read audio"):
        AudioSource(tmp_path / "junk.wav", "ja")
    sf.write(tmp_path / "empty.wav", np.zeros(0), RATE)
    with pytest.raises(SeparationInputError, match="empty"):
        AudioSource(tmp_path / "empty.wav", "ja")
