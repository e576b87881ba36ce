"""Decode any audio file to a stream of 16 kHz mono float32 chunks with bounded memory."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr  # type: ignore[import-untyped]

from dubset_asr.core.blocks import Samples
from dubset_asr.core.model import AsrInputError

SAMPLE_RATE = 16_000
CHUNK_S = 30
MAX_AUDIO_S = 6 * 3600
MAX_CHANNELS = 32


def _downmix(frames: np.ndarray) -> Samples:
    """Mean of all channels (5.1 included): dialogue sits in the centre or is spread over all."""
    if frames.ndim == 1:
        return frames.astype(np.float32, copy=False)
    mono: Samples = frames.mean(axis=1, dtype=np.float32)
    return mono


def _from_soundfile(f: sf.SoundFile, name: str) -> Iterator[Samples]:
    if f.channels < 1 or f.channels > MAX_CHANNELS:
        raise AsrInputError(f"{name}: {f.channels} channels is not supported")
    if f.samplerate < 4000 or f.samplerate > 768_000:
        raise AsrInputError(f"{name}: sample rate {f.samplerate} Hz is not supported")
    if f.frames > MAX_AUDIO_S * f.samplerate:
        raise AsrInputError(
            f"{name}: {f.frames / f.samplerate:.0f} s of audio is over the limit of {MAX_AUDIO_S} s"
        )
    stream = None
    if f.samplerate != SAMPLE_RATE:
        stream = soxr.ResampleStream(f.samplerate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
    block = CHUNK_S * f.samplerate
    try:
        for frames in f.blocks(blocksize=block, dtype="float32", always_2d=True):
            mono = _downmix(frames)
            yield mono if stream is None else stream.resample_chunk(mono, last=False)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise AsrInputError(f"{name}: cannot decode audio ({exc})") from None
    if stream is not None:
        yield stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)


def _from_ffmpeg(path: Path, name: str) -> Iterator[Samples]:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise AsrInputError(f"{name}: not a WAV/FLAC/OGG/MP3 file and ffmpeg is not installed")
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-vn"]
    cmd += ["-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-"]
    # stderr goes to a file: a pipe nobody drains could fill and stall ffmpeg
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        chunk_bytes = CHUNK_S * SAMPLE_RATE * 4
        total = 0
        pending = b""
        try:
            while data := proc.stdout.read(chunk_bytes):
                data = pending + data
                usable = len(data) - len(data) % 4
                pending = data[usable:]
                total += usable // 4
                if total > MAX_AUDIO_S * SAMPLE_RATE:
                    raise AsrInputError(f"{name}: audio is over the limit of {MAX_AUDIO_S} s")
                yield np.frombuffer(data[:usable], dtype="<f4").astype(np.float32)
            if proc.wait() != 0:
                errors.seek(0)
                lines = errors.read(8000).decode(errors="replace").strip().splitlines()
                last = lines[-1] if lines else f"ffmpeg exit status {proc.returncode}"
                raise AsrInputError(f"{name}: cannot decode audio ({last})")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()


def duration_s(path: Path) -> float | None:
    """The duration libsndfile reads from the header, None when it cannot read the file."""
    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError):
        return None
    return float(info.frames) / info.samplerate if info.samplerate else None


def stream_16k(path: Path) -> Iterator[Samples]:
    """16 kHz mono float32 chunks of about CHUNK_S seconds: libsndfile first, else ffmpeg."""
    name = path.name
    if not path.is_file():
        raise AsrInputError(f"{path}: no such file")
    try:
        f = sf.SoundFile(str(path))
    except (RuntimeError, sf.LibsndfileError):
        yield from _from_ffmpeg(path, name)
        return
    with f:
        yield from _from_soundfile(f, name)
