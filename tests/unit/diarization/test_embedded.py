"""The embedded backend with its real models (Silero VAD + Resemblyzer) on real audio."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from dubset_diarization.config import DiarizationConfig
from dubset_diarization.core.model import SpeakerBounds
from dubset_diarization.handler import Backends

FIXTURES = Path(__file__).parent / "fixtures"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def backends() -> Backends:
    return Backends(DiarizationConfig())


def _accuracy(turns: list[dict[str, Any]], truth: list[dict[str, Any]]) -> float:
    """Share of truth speech (10 ms frames) given the mapped speaker (greedy mapping)."""
    n = max(int(t["end_ms"]) for t in truth) // 10 + 1
    ref, hyp = np.full(n, "", dtype=object), np.full(n, "", dtype=object)
    for t in truth:
        ref[int(t["start_ms"]) // 10 : int(t["end_ms"]) // 10] = t["speaker"]
    for t in turns:
        hyp[int(t["start_ms"]) // 10 : int(t["end_ms"]) // 10] = t["speaker"]
    speech = ref != ""
    mapping = {}
    for h in set(hyp[speech]) - {""}:
        values, counts = np.unique(ref[speech & (hyp == h)], return_counts=True)
        mapping[h] = values[np.argmax(counts)]
    mapped = np.array([mapping.get(h, "") for h in hyp], dtype=object)
    return float(np.mean(mapped[speech] == ref[speech]))


def test_three_voices_are_found_deterministically(backends: Backends, tmp_path: Path) -> None:
    truth = json.loads((FIXTURES / "three_voices.json").read_text())["turns"]
    runs = [
        backends.run(FIXTURES / "three_voices.flac", "embedded", SpeakerBounds(), workdir=tmp_path)
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    d = runs[0].diarization
    assert d.speakers == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_02"]
    turns = [{"start_ms": t.start_ms, "end_ms": t.end_ms, "speaker": t.speaker} for t in d.turns]
    assert _accuracy(turns, truth) > 0.9
    assert runs[0].backend == "embedded:silero+resemblyzer"
    checksums = runs[0].info["checksums"]
    assert isinstance(checksums, dict)
    assert set(checksums) == {"silero_vad.onnx", "resemblyzer/pretrained.pt"}


def test_given_count_and_stereo_48k(backends: Backends, tmp_path: Path) -> None:
    x, rate = sf.read(FIXTURES / "three_voices.flac", dtype="float32")
    t = np.arange(int(len(x) * 3)) / 3
    x48 = np.interp(t, np.arange(len(x)), x).astype(np.float32)
    wav = tmp_path / "stereo.wav"
    sf.write(wav, np.stack([x48, 0.5 * x48], axis=1), rate * 3, subtype="PCM_24")
    r = backends.run(wav, "embedded", SpeakerBounds(num=2), workdir=tmp_path)
    assert r.diarization.speakers == ["SPEAKER_00", "SPEAKER_01"]
    assert r.info["input_channels"] == 2 and r.info["input_sample_rate"] == 48_000


def test_noise_and_synthetic_music_give_little_speech(backends: Backends, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rate, seconds = 44_100, 12
    t = np.arange(rate * seconds) / rate
    music = np.zeros_like(t)
    for i, f0 in enumerate([220.0, 277.2, 329.6, 440.0] * 3):
        beat = (t >= i) & (t < i + 1)
        for h in range(1, 6):
            music[beat] += np.sin(2 * np.pi * f0 * h * t[beat]) / h
    music = 0.2 * music / np.abs(music).max() + 0.02 * rng.standard_normal(len(t))
    for name, audio in (("noise", 0.1 * rng.standard_normal(len(t))), ("music", music)):
        wav = tmp_path / f"{name}.wav"
        sf.write(wav, audio.astype(np.float32), rate)
        r = backends.run(wav, "embedded", SpeakerBounds(), workdir=tmp_path)
        speech_ms = sum(t.end_ms - t.start_ms for t in r.diarization.turns)
        assert speech_ms < 0.25 * seconds * 1000, name


LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")


@pytest.mark.skipif(not LIBRIVOX.is_dir(), reason="Debian pocketsphinx-testdata not installed")
def test_one_human_reader_is_one_speaker(backends: Backends, tmp_path: Path) -> None:
    parts = []
    for f in sorted(LIBRIVOX.glob("*.wav")):
        x, rate = sf.read(f, dtype="float32")
        parts += [x, np.zeros(rate // 2, np.float32)]
    wav = tmp_path / "reader.wav"
    sf.write(wav, np.concatenate(parts), rate)
    r = backends.run(wav, "embedded", SpeakerBounds(), workdir=tmp_path)
    assert r.diarization.speakers == ["SPEAKER_00"] and len(r.diarization.turns) >= 5
