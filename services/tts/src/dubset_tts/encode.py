"""Baseline clips as mp3: a batch of WAVs encoded by one ffmpeg, then decoded once more to check
them and measure the duration that plays.

Outputs are byte-identical across runs: one encoder thread, bitexact flags, no metadata, no ID3
tags. ffmpeg only opens absolute `file:` URLs of WAVs this service wrote itself.
"""

from __future__ import annotations

import re
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from dubset_common.tools import ToolError, run_tool, tool_version

MP3_KBPS = 96
MP3_RATE_HZ = 44_100
# The encoding recipe's version: bump it whenever encode_argv changes the bytes a clip gets.
ENCODER_RECIPE = "1"
MAX_BATCH = 16
BASE_TIMEOUT_S = 120.0
TIMEOUT_S_PER_MEDIA_S = 4.0
MAX_STDOUT = 16 * 1024 * 1024
_BITEXACT = ["-fflags", "+bitexact", "-map_metadata", "-1", "-map_chapters", "-1"]


@dataclass(frozen=True)
class Mp3:
    """An mp3 written and checked by decoding it."""

    path: Path
    duration_ms: int


def ffmpeg() -> str:
    """The ffmpeg executable on PATH; ToolError (an operator's problem) when missing."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise ToolError("ffmpeg not found on PATH (install ffmpeg)")
    return exe


def encoder_label() -> str:
    """What decides the mp3 bytes besides the samples: recorded as the clips' provenance."""
    return f"ffmpeg-{tool_version(ffmpeg())}/libmp3lame-{MP3_KBPS}k-cbr/{ENCODER_RECIPE}"


def write_wav(samples: npt.NDArray[np.float32], rate: int, path: Path) -> Path:
    """Mono float samples as a 16-bit PCM WAV (clipped to [-1, 1])."""
    sf.write(str(path), np.clip(samples, -1.0, 1.0), rate, subtype="PCM_16", format="WAV")
    return path


def _url(path: Path, must_exist: bool) -> str:
    if must_exist:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
            raise ToolError(f"{path.name}: not a non-empty regular file")
    return "file:" + str(path.resolve())


def _input(path: Path) -> list[str]:
    return ["-protocol_whitelist", "file", "-i", _url(path, True)]


def encode_argv(exe: str, jobs: Sequence[tuple[Path, Path]]) -> list[str]:
    """One ffmpeg encoding each (wav, mp3) pair: CBR 96 kbps, 44.1 kHz, mono, bitexact."""
    argv = [exe, "-nostdin", "-hide_banner", "-v", "error", "-nostats", "-threads", "1"]
    outs: list[str] = []
    for i, (wav, mp3) in enumerate(jobs):
        argv += _input(wav)
        outs += ["-map", f"{i}:a:0", "-c:a", "libmp3lame", "-b:a", f"{MP3_KBPS}k"]
        outs += ["-ar", str(MP3_RATE_HZ), "-ac", "1", "-threads", "1", "-flags:a", "+bitexact"]
        outs += [*_BITEXACT, "-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3"]
        outs += ["-y", _url(mp3, False)]
    return [*argv, *outs]


_TB = re.compile(r"^#tb (\d+): (\d+)/(\d+)$")


def decoded_ms(stdout: bytes) -> list[int]:
    """Decoded milliseconds per output stream of an ffmpeg framecrc report."""
    tbs: dict[int, Fraction] = {}
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for line in stdout.decode("ascii", "replace").splitlines():
        if m := _TB.match(line):
            tbs[int(m[1])] = Fraction(int(m[2]), int(m[3]))
            continue
        fields = [f.strip() for f in line.split(",")]
        if line.startswith("#") or len(fields) < 4 or not fields[0].isdigit():
            continue
        k, pts, dur = int(fields[0]), int(fields[2]), int(fields[3])
        first[k] = min(first.get(k, pts), pts)
        last[k] = max(last.get(k, pts + dur), pts + dur)
    return [round((last.get(k, 0) - first.get(k, 0)) * tbs[k] * 1000) for k in sorted(tbs)]


def timeout_s(media_ms: int) -> float:
    return BASE_TIMEOUT_S + TIMEOUT_S_PER_MEDIA_S * media_ms / 1000


def encode_batch(jobs: Sequence[tuple[Path, Path]], media_ms: int) -> list[Mp3]:
    """Encode up to MAX_BATCH (wav, mp3) pairs, then decode the mp3s to check them.

    ToolError when ffmpeg fails on these WAVs (this service wrote them: not the input's fault),
    ToolTimeoutError (a subclass) when a starved host runs past the limit.
    """
    if not jobs:
        return []
    if len(jobs) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} clips per ffmpeg, not {len(jobs)}")
    exe = ffmpeg()
    limit = timeout_s(media_ms)
    result = run_tool(encode_argv(exe, jobs), limit, MAX_STDOUT)
    if result.returncode != 0:
        raise ToolError(f"ffmpeg could not encode the baseline mp3s: {result.reason()}")
    argv = [exe, "-nostdin", "-hide_banner", "-v", "error", "-threads", "1"]
    maps: list[str] = []
    for i, (_wav, mp3) in enumerate(jobs):
        argv += _input(mp3)
        maps += ["-map", f"{i}:a:0"]
    check = run_tool([*argv, *maps, "-f", "framecrc", "-"], limit, MAX_STDOUT)
    durations = decoded_ms(check.stdout) if check.returncode == 0 else []
    if len(durations) != len(jobs) or min(durations) <= 0:
        raise ToolError(f"an encoded baseline mp3 does not decode: {check.reason()}")
    return [Mp3(mp3, ms) for (_wav, mp3), ms in zip(jobs, durations, strict=True)]
