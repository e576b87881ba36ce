"""PCM s16le WAV files mapped from disk, so long tracks are read without loading them whole."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dubset_media.core.model import MediaInputError

MAX_CHUNKS = 64


@dataclass(frozen=True)
class WavInfo:
    sample_rate_hz: int
    channels: int
    frames: int
    data_offset: int

    @property
    def duration_ms(self) -> int:
        return self.frames * 1000 // self.sample_rate_hz


def read_info(path: Path) -> WavInfo:
    """The format and data chunk of a 16-bit PCM WAV file."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise MediaInputError(f"{path.name}: not a WAV file")
        fmt: tuple[int, int, int, int] | None = None
        pos = 12
        for _ in range(MAX_CHUNKS):
            fh.seek(pos)
            header = fh.read(8)
            if len(header) < 8:
                break
            cid, clen = header[:4], struct.unpack("<I", header[4:])[0]
            if cid == b"fmt ":
                body = fh.read(16)
                if len(body) < 16:
                    break
                tag, ch, rate, _br, _align, bits = struct.unpack("<HHIIHH", body)
                fmt = (tag, ch, rate, bits)
            elif cid == b"data":
                if fmt is None:
                    break
                tag, ch, rate, bits = fmt
                if tag not in (1, 0xFFFE) or bits != 16 or ch < 1 or rate < 1:
                    raise MediaInputError(f"{path.name}: not 16-bit PCM (format {tag}, {bits} bit)")
                # ffmpeg writes 0 or 0xFFFFFFFF when it could not seek back; trust the file size.
                avail = size - pos - 8
                length = avail if clen in (0, 0xFFFFFFFF) or clen > avail else clen
                return WavInfo(rate, ch, length // (2 * ch), pos + 8)
            pos += 8 + clen + (clen & 1)
    raise MediaInputError(f"{path.name}: WAV file without a usable fmt/data chunk")


def open_mono(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    """(samples, rate) of a mono WAV as a read-only memory map; stereo and more are refused."""
    info = read_info(path)
    if info.channels != 1:
        raise MediaInputError(f"{path.name}: {info.channels} channels, the offset needs mono")
    if info.frames == 0:
        return np.zeros(0, np.int16), info.sample_rate_hz
    data = np.memmap(path, dtype="<i2", mode="r", offset=info.data_offset, shape=(info.frames,))
    return data, info.sample_rate_hz
