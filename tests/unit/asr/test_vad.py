"""Silero VAD from the silero-vad wheel: a speech map of real speech, the same in any chunking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset_asr.vad import FRAME_MS, file_speech, shared_vad

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
pytestmark = pytest.mark.skipif(not LIBRIVOX.is_dir(), reason="needs Debian pocketsphinx-testdata")


def _padded_speech() -> np.ndarray:
    speech, rate = sf.read(
        LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav", dtype="float32"
    )
    assert rate == 16_000
    silence = np.zeros(16_000, np.float32)
    # 1 s silence, the 3 s clip, 1 s silence, its first 2 s again, 1 s silence
    return np.concatenate([silence, speech[: 3 * rate], silence, speech[: 2 * rate], silence])


def test_speech_map_finds_both_utterances_and_not_the_silence(tmp_path: Path) -> None:
    audio = _padded_speech()
    path = tmp_path / "a.wav"
    sf.write(path, audio, 16_000, subtype="PCM_16")
    speech = file_speech(shared_vad(), path)
    assert speech, "no speech found"
    # nothing in the first second; a gap over the second silence (about 3990-4990 ms)
    assert speech[0][0] >= 1000 - FRAME_MS
    assert not any(s < 4900 and e > 4100 for s, e in speech), speech
    assert any(s >= 4990 - FRAME_MS and e <= 7100 for s, e in speech)
    assert speech[-1][1] <= len(audio) // 16


def test_probabilities_do_not_depend_on_chunking() -> None:
    audio = _padded_speech()[: 3 * 16_000]
    vad = shared_vad()
    whole = vad.probabilities([audio])
    odd = vad.probabilities(np.array_split(audio, [1000, 1001, 9000, 30_017]))
    assert len(whole) == len(odd) == -(-len(audio) // 512)
    assert whole == odd
