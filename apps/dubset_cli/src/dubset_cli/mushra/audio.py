"""The stimuli of one trial: decoded, trimmed, the band-limited anchor, loudness-matched."""

from __future__ import annotations

import io
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyloudnorm
import soundfile as sf
from scipy import signal

from dubset_cli.mushra.errors import KitError
from dubset_common.tools import ToolError, run_tool

Audio = npt.NDArray[np.float64]
RATE = 44100
FADE_MS = 10
TARGET_LUFS = -23.0
PEAK_LIMIT = 10 ** (-1.0 / 20)  # -1 dBFS: headroom so no stimulus clips after its gain
ANCHOR_ORDER = 12  # Butterworth order per pass; run forward and backward (zero phase)


@dataclass(frozen=True)
class Stimulus:
    samples: Audio  # mono, RATE Hz, after gain
    loudness_lufs: float | None  # before gain; None for silence
    gain_db: float


def decode(ffmpeg: str, path: Path, duration_ms: int) -> Audio:
    """The first `duration_ms` of an mp3 as mono float samples at RATE, via a locked-down
    ffmpeg (file: protocol only, mp3 demuxer only, one thread)."""
    try:
        st = path.stat()
    except OSError as exc:
        raise KitError(f"{path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
        raise KitError(f"{path}: not a non-empty regular file")
    argv = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1"]
    argv += ["-protocol_whitelist", "file", "-format_whitelist", "mp3,wav"]
    argv += ["-i", "file:" + str(path.resolve()), "-t", f"{duration_ms / 1000:.3f}", "-vn"]
    argv += ["-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"]
    limit = (duration_ms * RATE // 1000 + RATE) * 4
    try:
        result = run_tool(argv, 60.0 + duration_ms / 1000, limit)
    except ToolError as exc:
        raise KitError(f"{path}: {exc}") from None
    except ValueError as exc:
        raise KitError(f"{path}: {exc}") from None
    if result.returncode != 0:
        raise KitError(f"{path}: ffmpeg cannot decode it: {result.reason()}")
    samples = np.frombuffer(result.stdout, dtype="<f4").astype(np.float64)
    if samples.size < RATE // 2:
        raise KitError(f"{path}: under half a second of audio decoded")
    return samples


def find_ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise KitError("ffmpeg not found on PATH (install ffmpeg)")
    return exe


def low_pass(samples: Audio, cutoff_hz: float, rate: int = RATE) -> Audio:
    """The MUSHRA low anchor: a zero-phase Butterworth low-pass (order 2 x ANCHOR_ORDER), -6 dB
    at the cutoff and over 60 dB down an octave above it, so the band limit is audible."""
    if not 500.0 <= cutoff_hz < rate / 2:
        raise KitError(f"anchor cutoff {cutoff_hz:g} Hz must be from 500 Hz to {rate // 2} Hz")
    sos = signal.butter(ANCHOR_ORDER, cutoff_hz, btype="low", fs=rate, output="sos")
    out: Audio = signal.sosfiltfilt(sos, samples)
    return out


def _faded(samples: Audio, rate: int) -> Audio:
    """Short raised-cosine fades so a trimmed clip neither starts nor stops with a click."""
    n = min(samples.size // 4, rate * FADE_MS // 1000)
    out = samples.copy()
    if n > 0:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))
        out[:n] *= ramp
        out[-n:] *= ramp[::-1]
    return out


def match(
    signals: dict[str, Audio], target_lufs: float = TARGET_LUFS, rate: int = RATE
) -> dict[str, Stimulus]:
    """Every signal trimmed to the shortest, faded, and gained to the same integrated loudness
    (BS.1770); when that would push a peak over -1 dBFS, the whole trial is quieter together."""
    length = min(s.size for s in signals.values())
    meter = pyloudnorm.Meter(rate)
    faded = {k: _faded(s[:length], rate) for k, s in signals.items()}
    loudness: dict[str, float | None] = {}
    for k, s in faded.items():
        value = float(meter.integrated_loudness(s))
        loudness[k] = value if np.isfinite(value) else None
    gains = {k: 0.0 if v is None else target_lufs - v for k, v in loudness.items()}
    peaks = [float(np.max(np.abs(s))) * 10 ** (gains[k] / 20) for k, s in faded.items()]
    over = max(peaks) / PEAK_LIMIT
    shift = 20 * np.log10(over) if over > 1.0 else 0.0
    return {
        k: Stimulus(s * 10 ** ((gains[k] - shift) / 20), loudness[k], round(gains[k] - shift, 2))
        for k, s in faded.items()
    }


def wav_bytes(samples: Audio, rate: int = RATE) -> bytes:
    """16-bit mono WAV, rounded (not truncated) and clipped: the same samples give the same
    bytes, and libsndfile writes no date or software tag into a plain WAV."""
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    buf = io.BytesIO()
    sf.write(buf, pcm, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()
