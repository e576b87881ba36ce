"""What an encoded clip plays for, as ffmpeg decodes it."""

from __future__ import annotations

import subprocess
from pathlib import Path


def decoded_ms(path: Path) -> int:
    """The milliseconds of audio ffmpeg decodes from path (44.1 kHz mono samples counted)."""
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "44100", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return round(len(out) / 2 / 44.1)
