"""Domain values of ASR and the backend protocol."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

LANGUAGES = ("ja", "en")
ProgressHook = Callable[[float, str], None]


class AsrInputError(ValueError):
    """The audio or the parameters can never be transcribed: corrupt, unreadable, out of range."""


class ModelUnavailableError(RuntimeError):
    """The requested backend or model cannot be loaded (missing directory, bad checksum, config)."""


class BackendFailedError(RuntimeError):
    """The backend ran and failed; retryable when it may pass on a second try."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Word:
    """One recognised word (a character or short chunk in Japanese), in the input's timeline."""

    start_ms: int
    end_ms: int
    text: str
    confidence: float


@dataclass(frozen=True)
class Segment:
    """A run of words; its text is its words' texts joined as the recogniser spaced them."""

    start_ms: int
    end_ms: int
    text: str
    words: tuple[Word, ...]


@dataclass(frozen=True)
class Transcript:
    """speech: the [start, end) ms stretches of speech the segments were cut on (the voice
    activity map), when the recogniser had one; alignment finds line breaks in its pauses."""

    language: str
    segments: tuple[Segment, ...]
    duration_ms: int | None = None
    speech: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class RawWord:
    """A word as a recogniser gives it: raw text (maybe with spaces), seconds, probability."""

    text: str
    start_s: float
    end_s: float
    probability: float


@dataclass(frozen=True)
class DecodeOptions:
    """Decoding settings; the defaults are deterministic (beam 5, temperature 0, no fallback).

    vad: skip non-speech while decoding, and cut segments at the silences of a speech map
    (core/speech.py) instead of at the recogniser's word pauses.
    """

    beam_size: int = 5
    temperature: float = 0.0
    vad: bool = True
    initial_prompt: str = ""


class AsrBackend(Protocol):
    """A recogniser behind one interface: faster-whisper, AWS Transcribe, test doubles."""

    name: str
    model: str

    def info(self) -> Mapping[str, object]:
        """Deterministic facts for the stage manifest: versions, model checksum."""

    def transcribe(
        self, audio: Path, language: str, options: DecodeOptions, hook: ProgressHook
    ) -> Transcript: ...
