"""DNSMOS ranks clean TTS above noisy TTS; speaker embeddings tell voices apart."""

from __future__ import annotations

import numpy as np
import pytest

from dubset_tts.core.model import Speech
from dubset_tts.quality import DnsmosScorer, ResemblyzerEmbedder
from dubset_voices.engines import EspeakEngine, PiperEngine

TEXT = "Time always flies when I'm with you. Fall down, get back up."


@pytest.fixture(scope="module")
def clean() -> Speech:
    audio, rate = PiperEngine().synthesize(TEXT, "joe")
    return Speech(audio, rate)


def test_dnsmos_prefers_clean_speech_and_is_repeatable(clean: Speech) -> None:
    scorer = DnsmosScorer()
    rng = np.random.default_rng(3)
    noisy = np.clip(clean.samples + 0.3 * rng.standard_normal(len(clean.samples)), -1, 1)
    good = scorer.dnsmos(clean)
    bad = scorer.dnsmos(Speech(noisy.astype(np.float32), clean.rate))
    assert 1.0 <= bad < good - 1.0 <= 4.0
    assert scorer.dnsmos(clean) == good


def test_embeddings_are_unit_and_separate_voices(clean: Speech) -> None:
    embedder = ResemblyzerEmbedder()
    other_text = PiperEngine().synthesize("Where are you going tonight?", "joe")
    robot = EspeakEngine().synthesize("Where are you going tonight?", "en-us+f2")
    a = embedder.embed(clean)
    same = embedder.embed(Speech(*other_text))
    different = embedder.embed(Speech(*robot))
    assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-5)
    assert float(np.dot(a, same)) > float(np.dot(a, different)) + 0.1
    assert np.array_equal(a, embedder.embed(clean))
