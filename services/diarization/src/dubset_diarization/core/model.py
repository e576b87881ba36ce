"""Diarization values, typed failures and the model ports the core is given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
MAX_SPEAKERS = 64

FloatArray = npt.NDArray[np.float32]


class DiarizationInputError(ValueError):
    """The audio or the parameters can never give a diarization (corrupt, out of range)."""


class BackendUnavailableError(RuntimeError):
    """A requested backend cannot be loaded here; never replaced by another backend."""


@dataclass(frozen=True)
class Turn:
    """One speaker's stretch of speech, integer milliseconds, end exclusive."""

    start_ms: int
    end_ms: int
    speaker: str


@dataclass(frozen=True)
class SpeakerBounds:
    """A given speaker count, or bounds for the estimate (ignored when num is set)."""

    num: int | None = None
    min: int | None = None
    max: int | None = None

    def __post_init__(self) -> None:
        for name in ("num", "min", "max"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= MAX_SPEAKERS:
                raise DiarizationInputError(
                    f"{name}_speakers must be between 1 and {MAX_SPEAKERS} ({value})"
                )
        lo, hi = self.min, self.max
        if self.num is None and lo is not None and hi is not None and lo > hi:
            raise DiarizationInputError(
                f"min_speakers {self.min} is greater than max_speakers {self.max}"
            )

    def clamp(self, k: int) -> int:
        """The speaker count to use when k were estimated."""
        if self.num is not None:
            return self.num
        if self.min is not None:
            k = max(k, self.min)
        if self.max is not None:
            k = min(k, self.max)
        return k


@dataclass(frozen=True)
class Diarization:
    """Turns in time order with ids SPEAKER_00.. by first appearance."""

    turns: tuple[Turn, ...]
    duration_ms: int

    @property
    def speakers(self) -> list[str]:
        return sorted({t.speaker for t in self.turns})


class SpeechDetector(Protocol):
    """Streaming voice activity: speech probability per frame of frame_samples at 16 kHz."""

    frame_samples: int

    def reset(self) -> None:
        """Forget the state carried from previous frames (start of a new file)."""

    def probabilities(self, frames: FloatArray) -> FloatArray:
        """(n, frame_samples) consecutive frames → (n,) probabilities in [0, 1]."""


class SpeakerEmbedder(Protocol):
    """A speaker embedding per 16 kHz audio window."""

    def embed(self, windows: Sequence[FloatArray]) -> FloatArray:
        """Windows (each 1-D, any length ≥ 0.1 s) → (n, dim) embeddings."""
