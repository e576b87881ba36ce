"""Domain values of render."""

from __future__ import annotations

from dataclasses import dataclass

CONTAINERS = ("mkv", "mp4")


class RenderInputError(ValueError):
    """The inputs or params cannot be rendered: malformed, mismatched, unreadable media."""


@dataclass(frozen=True)
class SpokenLine:
    """A line as the tts stage placed it (lines.json), with its Japanese text when known."""

    index: int
    speaker: str
    voice: str
    en_text: str
    ja_text: str
    ja_start_ms: int
    ja_end_ms: int
    start_ms: int
    end_ms: int
    stretch: float
    fits: bool
    over_ms: int
    flaps: tuple[int, int] | None = None  # timed to the flaps: where the speaking mouth moves


@dataclass(frozen=True)
class Levels:
    """What the mix did to loudness (LUFS, BS.1770) and peaks (dBTP)."""

    target_lufs: float  # the original Japanese dialogue's loudness (the speech is matched to it)
    speech_lufs: float  # the English speech before its gain
    speech_gain_db: float
    mix_lufs: float  # the English track as written
    mix_true_peak_dbtp: float
    bed: str  # "separated" or "ducked"
