"""The embedded faster-whisper base model on real speech, silence and music (slow)."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset_asr.assemble import default_base_dir
from dubset_asr.backends import load_backend
from dubset_asr.core.jsonio import dumps
from dubset_asr.core.model import AsrBackend, DecodeOptions, Transcript

pytestmark = pytest.mark.slow
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")


@pytest.fixture(scope="module")
def asr() -> AsrBackend:
    if not (default_base_dir() / "model.bin").is_file():
        pytest.skip("embedded model not assembled (python -m dubset_asr.assemble)")
    return load_backend("faster-whisper")


def _run(asr: AsrBackend, path: Path, lang: str, **kw: object) -> Transcript:
    return asr.transcribe(path, lang, DecodeOptions(**kw), lambda *_: None)  # type: ignore[arg-type]


def _check_invariants(t: Transcript, duration_ms: int) -> None:
    last = 0
    for s in t.segments:
        assert s.words and s.start_ms >= last and s.end_ms <= duration_ms
        assert s.text.replace(" ", "") == "".join(w.text for w in s.words)
        for w in s.words:
            assert s.start_ms <= w.start_ms <= w.end_ms <= s.end_ms
            assert 0.0 <= w.confidence <= 1.0
        last = s.end_ms  # segments never overlap


def test_silence_and_music_give_no_segments(asr: AsrBackend, tmp_path: Path) -> None:
    from dubset_sample.backing import render_bed

    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(20 * 16_000, np.float32), 16_000, subtype="PCM_16")
    music = tmp_path / "music.wav"
    sf.write(music, render_bed(30_000, 48_000, 3).audio, 48_000)
    for path in (silence, music):
        t = _run(asr, path, "ja")
        assert t.segments == (), path.name
    assert _run(asr, silence, "en").duration_ms == 20_000


@pytest.mark.skipif(not LIBRIVOX.is_dir(), reason="needs Debian pocketsphinx-testdata")
def test_english_speech_in_the_files_timeline(asr: AsrBackend, tmp_path: Path) -> None:
    speech, rate = sf.read(
        LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav", dtype="float32"
    )
    pad = np.zeros(int(3.0 * rate), np.float32)
    stereo48 = tmp_path / "padded.wav"
    audio = np.concatenate([pad, speech, pad])
    import soxr  # type: ignore[import-untyped]

    up = soxr.resample(audio, rate, 48_000)
    sf.write(stereo48, np.stack([up, up], axis=1), 48_000, subtype="PCM_16")
    t = _run(asr, stereo48, "en")
    duration = round(len(up) / 48)
    _check_invariants(t, duration)
    words = re.sub(r"[^a-z ]", " ", " ".join(s.text for s in t.segments).lower()).split()
    reference = ["he", "was", "not", "an", "ill", "disposed", "young", "man"]
    assert sum(a == b for a, b in zip(words, reference, strict=False)) >= 6, words
    assert 2700 <= t.segments[0].start_ms <= 3600  # after the 3 s of padding, not at 0
    assert dumps(t) == dumps(_run(asr, stereo48, "en"))  # same input, same bytes


def test_japanese_speech_joins_without_spaces(asr: AsrBackend, tmp_path: Path) -> None:
    pyopenjtalk = pytest.importorskip("pyopenjtalk")
    text = "今日はとてもいい天気ですね。明日は雨が降るそうです。"
    wave, rate = pyopenjtalk.tts(text)
    speech = (np.asarray(wave) / 32768.0).astype(np.float32)
    audio = np.concatenate([np.zeros(2 * rate, np.float32), speech, np.zeros(rate, np.float32)])
    path = tmp_path / "ja.wav"
    sf.write(path, audio, rate, subtype="PCM_16")
    t = _run(asr, path, "ja")
    _check_invariants(t, round(len(audio) * 1000 / rate))
    got = "".join(s.text for s in t.segments)
    assert " " not in got
    norm = [unicodedata.normalize("NFKC", x).replace("。", "") for x in (got, text)]
    same = sum(a == b for a, b in zip(norm[0], norm[1], strict=False))
    assert same >= 0.6 * len(norm[1]), got
    assert 1700 <= t.segments[0].start_ms <= 2600


def test_two_japanese_lines_half_a_second_apart_are_two_segments(
    asr: AsrBackend, tmp_path: Path
) -> None:
    pyopenjtalk = pytest.importorskip("pyopenjtalk")
    lines = ["時間があっという間に過ぎるね。", "私のことはもう忘れて。"]
    waves = []
    for line in lines:
        wave, rate = pyopenjtalk.tts(line)
        waves.append((np.asarray(wave) / 32768.0).astype(np.float32))
    gap = np.zeros(rate * 450 // 1000, np.float32)
    pad = np.zeros(rate, np.float32)
    audio = np.concatenate([pad, waves[0], gap, waves[1], pad])
    path = tmp_path / "ja2.wav"
    sf.write(path, audio, rate, subtype="PCM_16")
    t = _run(asr, path, "ja")
    _check_invariants(t, round(len(audio) * 1000 / rate))
    second_ms = round((len(pad) + len(waves[0]) + len(gap)) * 1000 / rate)
    assert len(t.segments) == 2, [s.text for s in t.segments]
    assert t.segments[0].end_ms <= second_ms - 200
    assert second_ms - 250 <= t.segments[1].start_ms <= second_ms + 300


def test_one_segment_per_line_with_edges_on_the_speech(asr: AsrBackend) -> None:
    # 5.5 s of a generated episode's separated English dialogue: "I can't believe it, it's
    # snowing!" (1187-2919 ms) then "Fall down, get back up." (3506-4942 ms). Before the speech
    # map the first started 340 ms early, in silence, and the second was cut at its comma.
    t = _run(asr, Path(__file__).parent / "fixtures" / "two_lines_en.flac", "en")
    _check_invariants(t, 5500)
    assert len(t.segments) == 2, [s.text for s in t.segments]
    first, second = t.segments
    assert "snowing" in first.text.lower() and "back up" in second.text.lower()
    assert abs(first.start_ms - 1187) <= 100 and abs(first.end_ms - 2919) <= 150
    assert abs(second.start_ms - 3506) <= 100 and abs(second.end_ms - 4942) <= 150


def test_compute_type_follows_the_device() -> None:
    from dubset_asr.backends import compute_type_for

    assert compute_type_for("cpu") == "int8"
    assert compute_type_for("cuda") == "float16"
    assert compute_type_for("cuda:1") == "float16"


@pytest.mark.skipif(bool(os.environ.get("NVIDIA_VISIBLE_DEVICES")), reason="a GPU may be here")
def test_cuda_without_a_gpu_is_a_clear_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """DUBSET_DEVICE=cuda loads the model on CUDA, never silently on the CPU."""
    from dubset_asr.core.model import ModelUnavailableError

    monkeypatch.setenv("DUBSET_DEVICE", "cuda")
    with pytest.raises(ModelUnavailableError, match="cannot load"):
        load_backend("faster-whisper")


def test_an_english_track_submitted_as_japanese_is_refused(asr: AsrBackend) -> None:
    from dubset_asr.core.model import AsrInputError

    english = Path(__file__).parent / "fixtures" / "two_lines_en.flac"
    with pytest.raises(AsrInputError, match=r"ja track does not sound Japanese.*hears 'en'"):
        _run(asr, english, "ja")
    assert _run(asr, english, "en").segments  # the same track as English is fine
