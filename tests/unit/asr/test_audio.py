"""Decoding: any rate, any channel count, containers via ffmpeg, corrupt input as a clear error."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset_asr.audio import duration_s, stream_16k
from dubset_asr.core.model import AsrInputError


def _tone(seconds: float, rate: int, channels: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    mono = 0.3 * np.sin(2 * np.pi * 440 * t)
    return np.repeat(mono[:, None], channels, axis=1).astype(np.float32)


@pytest.mark.parametrize(("rate", "channels"), [(48_000, 2), (44_100, 6), (16_000, 1), (8_000, 1)])
def test_any_rate_and_layout_becomes_16k_mono(tmp_path: Path, rate: int, channels: int) -> None:
    path = tmp_path / "a.wav"
    sf.write(path, _tone(65.0, rate, channels), rate, subtype="PCM_16")
    chunks = list(stream_16k(path))
    audio = np.concatenate(chunks)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 65 * 16_000) <= 2
    assert max(len(c) for c in chunks) <= 31 * 16_000  # bounded chunks, not the whole file
    assert np.sqrt(np.mean(audio[16_000:-16_000] ** 2)) == pytest.approx(0.3 / np.sqrt(2), rel=0.02)
    assert duration_s(path) == pytest.approx(65.0)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_video_container_is_decoded_with_ffmpeg(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    sf.write(wav, _tone(3.0, 48_000, 2), 48_000)
    mp4 = tmp_path / "a.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-c:a", "aac", str(mp4)], check=True)
    audio = np.concatenate(list(stream_16k(mp4)))
    assert abs(len(audio) - 3 * 16_000) < 0.1 * 16_000


def test_corrupt_and_missing_files_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 10)
    with pytest.raises(AsrInputError, match=r"bad\.wav"):
        list(stream_16k(bad))
    with pytest.raises(AsrInputError, match="no such file"):
        list(stream_16k(tmp_path / "nope.wav"))


def test_truncated_wav_yields_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "t.wav"
    sf.write(path, _tone(4.0, 16_000, 1), 16_000, subtype="PCM_16")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    audio = np.concatenate(list(stream_16k(path)))
    assert 1.5 * 16_000 <= len(audio) <= 4 * 16_000


def test_empty_wav_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "e.wav"
    sf.write(path, np.zeros(0, np.float32), 16_000)
    assert sum(len(c) for c in stream_16k(path)) == 0
