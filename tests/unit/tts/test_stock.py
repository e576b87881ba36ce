"""Stock voices: each speaker gets the nearest packaged voice, pitch-matched when that helps."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from dubset_tts.backends import load_synthesizer
from dubset_tts.backends.stock import (
    CALIBRATION,
    CLARITY,
    STOCK,
    StockSynthesizer,
    cast_pool,
    stock_synthesizer,
)
from dubset_tts.core.model import BackendUnavailableError, Speech, TtsInputError
from dubset_tts.quality import ResemblyzerEmbedder
from dubset_voices.dsp import median_pitch_hz, shift_voice
from dubset_voices.engines import EspeakEngine, FestivalEngine, PiperEngine

# Not the calibration text: the match must hold for other words too.
LINES = "Just forget about me. I can't believe it, it's snowing! Where are you going tonight?"


@pytest.fixture(scope="module")
def embedder() -> ResemblyzerEmbedder:
    return ResemblyzerEmbedder()


@pytest.fixture(scope="module")
def synth(embedder: ResemblyzerEmbedder) -> StockSynthesizer:
    return stock_synthesizer("piper", "", embedder)


@pytest.fixture(scope="module")
def joe() -> Speech:
    audio, rate = PiperEngine().synthesize(LINES, "joe")
    return Speech(audio, rate)


@pytest.mark.slow  # calibrates all eight stock voices (festival's HTS voice is slow)
def test_a_festival_slt_speaker_gets_festival_slt(synth: StockSynthesizer) -> None:
    assert LINES != CALIBRATION
    engine = FestivalEngine()
    audio, rate = engine.synthesize(LINES, "slt")
    engine.close()
    voice = synth.voice_for("S0", Speech(audio, rate))
    assert voice.label.startswith("festival:slt") and voice.similarity is not None
    assert voice.similarity > 0.8


@pytest.mark.slow
def test_a_pitch_shifted_piper_speaker_gets_piper_at_that_pitch(
    synth: StockSynthesizer, joe: Speech, embedder: ResemblyzerEmbedder
) -> None:
    shifted = Speech(shift_voice(joe.samples, joe.rate, 165.0, 1.0), joe.rate)
    voice = synth.voice_for("S1", shifted)
    match = re.fullmatch(r"piper:joe\+f0=(\d+)Hz,formant=[\d.]+", voice.label)
    assert match is not None, voice.label
    assert abs(int(match.group(1)) - 165) <= 8
    # The shift was kept because it is nearer the speaker than the stock joe is.
    plain = embedder.embed(synth._calibrated(synth._candidates[0]).speech)
    assert voice.similarity is not None
    assert voice.similarity > float(np.dot(plain, embedder.embed(shifted)))
    spoken = synth.speak("Where are you going tonight?", "S1")
    f0 = median_pitch_hz(spoken.samples, spoken.rate)
    assert f0 is not None and abs(f0 - 165) < 15


@pytest.mark.slow
def test_an_unshifted_piper_speaker_keeps_plain_joe(synth: StockSynthesizer, joe: Speech) -> None:
    assert synth.voice_for("S2", joe).label == "piper:joe"


def test_no_reference_means_the_default_voice_and_no_similarity(synth: StockSynthesizer) -> None:
    voice = synth.voice_for("S3", None)
    assert (voice.label, voice.similarity) == ("piper:joe", None)
    a = synth.speak("Hello there.", "unknown speaker")
    b = synth.speak("Hello there.", "unknown speaker")
    assert a.rate == 22050 and a.duration_ms > 300 and np.array_equal(a.samples, b.samples)


def test_espeak_voices_are_told_apart(embedder: ResemblyzerEmbedder) -> None:
    synth = stock_synthesizer("espeak-ng", "", embedder)
    for name in ("en-us+f2", "en-us+m3"):
        audio, rate = EspeakEngine().synthesize(LINES, name)
        voice = synth.voice_for(name, Speech(audio, rate))
        assert voice.label == f"espeak-ng:{name}", voice
        assert voice.similarity is not None and voice.similarity > 0.8


@pytest.mark.slow
def test_engine_restricted_and_fixed_voices(embedder: ResemblyzerEmbedder, joe: Speech) -> None:
    festival = stock_synthesizer("festival", "", embedder)
    assert festival.name == "festival" and festival.backend().startswith("festival-2")
    assert festival.voice_for("S0", joe).label.startswith("festival:")
    fixed = stock_synthesizer("espeak-ng", "espeak-ng:en-us+f2", embedder)
    assert fixed.voice_for("S0", joe).label.startswith("espeak-ng:en-us+f2")
    assert fixed.backend().startswith("espeak-ng-1.")


def test_unknown_backends_and_voices_are_input_errors(embedder: ResemblyzerEmbedder) -> None:
    with pytest.raises(TtsInputError, match="known: piper, festival, espeak-ng, yourtts"):
        load_synthesizer("tacotron")
    with pytest.raises(TtsInputError, match="this backend's voices: festival:kal"):
        stock_synthesizer("festival", "piper:joe", embedder)
    with pytest.raises(TtsInputError, match="only for the yourtts"):
        load_synthesizer("piper", model_dir=Path("/tmp"))
    with pytest.raises(BackendUnavailableError, match="model directory"):
        load_synthesizer("yourtts")


def test_a_missing_engine_is_backend_unavailable(
    embedder: ResemblyzerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dubset_voices.base.shutil.which", lambda name: None)
    with pytest.raises(BackendUnavailableError, match="espeak-ng is not installed"):
        stock_synthesizer("espeak-ng", "", embedder)


@pytest.mark.slow
def test_an_episode_cast_gives_two_similar_speakers_two_voices(
    synth: StockSynthesizer, joe: Speech
) -> None:
    """Two speakers who both sound most like joe: one gets joe, the other another voice, not
    joe again; a speaker without speech gets a voice of its own too."""
    quieter = Speech(joe.samples * 0.5, joe.rate)
    assert synth.voice_for("S1", quieter).label.startswith("piper:joe")  # alone: joe
    voices = synth.cast({"S0": joe, "S1": quieter, "S2": None}, {})
    bases = [v.label.split("+")[0] for v in voices]
    assert "piper:joe" in bases[:2] and len(set(bases)) == 3, bases
    assert voices[2].similarity is None


def test_a_pinned_voice_is_used_and_an_unknown_pin_is_refused(synth: StockSynthesizer) -> None:
    (voice,) = synth.cast({"S0": None}, {"S0": "espeak-ng:en-us+f2"})
    assert voice.label == "espeak-ng:en-us+f2"
    with pytest.raises(TtsInputError, match="unknown voice 'nobody'"):
        synth.cast({"S0": None}, {"S0": "nobody"})
    with pytest.raises(TtsInputError, match="S9, not a speaker of this episode"):
        synth.cast({"S0": None}, {"S9": "piper:joe"})


def test_a_cast_is_drawn_from_the_clearest_voices_that_go_round() -> None:
    by_name = {v.base: v for v in STOCK}
    names = [v.base for v in cast_pool(STOCK, [], 3)]
    assert names == ["piper:joe", "festival:slt", "espeak-ng:en-us+f2"]
    # A pinned voice is in the pool whatever its clarity; the others fill the rest.
    pool = cast_pool(STOCK, [by_name["festival:kal"]], 3)
    assert [v.base for v in pool] == ["festival:kal", "piper:joe", "festival:slt"]
    # More speakers than voices: every voice (some will be shared).
    assert len(cast_pool(STOCK, [], 20)) == len(STOCK)
    assert {v.base for v in STOCK} == set(CLARITY)


def test_the_calibration_is_kept_on_disk_and_read_back_exactly(
    embedder: ResemblyzerEmbedder, joe: Speech, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restarted worker reads each voice's calibration from the cache instead of speaking and
    embedding it again; the same numbers either way; a broken entry is computed again."""
    monkeypatch.setenv("DUBSET_TTS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("dubset_tts.backends.stock._CALIBRATION", {})
    first = stock_synthesizer("piper", "piper:joe", embedder).voice_for("S0", joe)
    (entry,) = (tmp_path / "cache").glob("*.npz")
    monkeypatch.setattr("dubset_tts.backends.stock._CALIBRATION", {})
    synth = stock_synthesizer("piper", "piper:joe", embedder)
    monkeypatch.setattr(synth, "_synth", lambda *a: pytest.fail("calibrated again"))
    assert synth.voice_for("S0", joe) == first
    entry.write_bytes(b"not an npz")
    monkeypatch.setattr("dubset_tts.backends.stock._CALIBRATION", {})
    assert stock_synthesizer("piper", "piper:joe", embedder).voice_for("S0", joe) == first
    monkeypatch.setenv("DUBSET_TTS_CACHE_DIR", "off")
    monkeypatch.setattr("dubset_tts.backends.stock._CALIBRATION", {})
    assert stock_synthesizer("piper", "piper:joe", embedder).voice_for("S0", joe) == first
    # Installed as bytecode only, the code cannot be hashed: nothing is cached.
    monkeypatch.setenv("DUBSET_TTS_CACHE_DIR", str(tmp_path / "other"))
    monkeypatch.setattr("dubset_tts.backends.stock._code_digest", lambda: None)
    monkeypatch.setattr("dubset_tts.backends.stock._CALIBRATION", {})
    assert stock_synthesizer("piper", "piper:joe", embedder).voice_for("S0", joe) == first
    assert not (tmp_path / "other").exists()
