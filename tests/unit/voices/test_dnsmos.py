"""DNSMOS on two threads gives the scores it gives on one, bit for bit (the stages' scores are
reproducible on any machine), and a clip is scored the same however often it is scored."""

from __future__ import annotations

import numpy as np
import pytest

from dubset_voices.dnsmos import THREADS, Dnsmos


def _clips() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    rate = 16000
    t = np.arange(int(2.5 * rate)) / rate
    out = []
    for k in range(4):
        voice = np.sin(2 * np.pi * (140 + 30 * k) * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
        noise = rng.normal(0, 0.02 * (k + 1), t.size)
        out.append((0.3 * voice + noise).astype(np.float32))
    out.append(rng.normal(0, 0.1, 12 * rate).astype(np.float32))  # longer than one window
    return out


def test_threads_do_not_change_scores() -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("speechmos")
    assert THREADS == 2
    one, two = Dnsmos(threads=1), Dnsmos()
    clips = _clips()
    scores_one = [one.ovrl_clip(c, 16000) for c in clips]
    scores_two = [two.ovrl_clip(c, 16000) for c in clips]
    assert scores_one == scores_two
    assert len(set(scores_one)) > 1  # the clips are told apart: the model really ran
    assert [two.ovrl_clip(c, 16000) for c in clips] == scores_two
