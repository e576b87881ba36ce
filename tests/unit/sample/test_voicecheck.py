"""The cast's voices are told apart by a speaker-embedding model (resemblyzer)."""

from __future__ import annotations

import numpy as np
import pytest

from dubset_sample.bank import load_bank
from dubset_sample.voicecheck import embed, separability
from dubset_sample.voices import CAST, VoiceBank


def test_separability_on_constructed_vectors() -> None:
    # Two tight clusters far apart: perfect identification, low centroid similarity.
    a = np.array([[1.0, 0.05, 0], [1.0, -0.05, 0], [1.0, 0, 0.05]])
    b = np.array([[0.05, 1.0, 0], [-0.05, 1.0, 0], [0, 1.0, 0.05]])
    vectors = np.vstack([a, b])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    report = separability([0, 0, 0, 1, 1, 1], vectors)
    assert report["identification_accuracy"] == 1.0
    assert report["max_cross_similarity"] < 0.1
    # One voice's utterances scattered over the other: identification drops.
    mixed = separability([0, 1, 0, 1, 0, 1], vectors)
    assert mixed["identification_accuracy"] < 0.7


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_cast_voice_is_distinguishable(lang: str) -> None:
    lines = load_bank()[:6]
    bank = VoiceBank(48000)
    labels, audio = [], []
    for speaker, member in enumerate(CAST):
        voice = member.ja if lang == "ja" else member.en
        for line in lines:
            audio.append(bank.speak(voice, line.ja if lang == "ja" else line.en))
            labels.append(speaker)
    report = separability(labels, embed(audio, 48000))
    assert report["identification_accuracy"] >= 0.9, report
    assert report["max_cross_similarity"] < 0.9, report
    # The default three-character cast is far apart.
    sim = np.array(report["similarity"])[:3, :3]
    assert sim[~np.eye(3, dtype=bool)].max() < 0.85, report
