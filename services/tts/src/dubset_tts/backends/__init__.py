"""Synthesizer backends by name; none falls back to another."""

from __future__ import annotations

from pathlib import Path

from dubset_tts.core.backend import SpeechSynthesizer
from dubset_tts.core.model import BackendUnavailableError, TtsInputError

BACKENDS = ("piper", "festival", "espeak-ng", "yourtts")
DEFAULT_BACKEND = "piper"


def load_synthesizer(
    name: str, voice: str = "", model_dir: Path | None = None
) -> SpeechSynthesizer:
    """The named backend ("" = piper); unknown names and voices are TtsInputError."""
    name = name or DEFAULT_BACKEND
    if name not in BACKENDS:
        raise TtsInputError(f"unknown TTS backend {name!r}; known: {', '.join(BACKENDS)}")
    if name == "yourtts":
        if voice:
            raise TtsInputError(
                f"yourtts clones each speaker's voice; voice must be empty, not {voice!r}"
            )
        if model_dir is None:
            raise BackendUnavailableError(
                "yourtts needs a model directory (TtsParams.model_dir or DUBSET_TTS_YOURTTS_DIR)"
            )
        if not model_dir.is_dir():
            raise BackendUnavailableError(f"yourtts model directory {str(model_dir)!r} is missing")
        from dubset_common.config import model_device
        from dubset_tts.backends.yourtts import YourTts

        return YourTts(model_dir, model_device())
    if model_dir is not None:
        raise TtsInputError(f"model_dir is only for the yourtts backend, not {name!r}")
    from dubset_tts.backends.stock import stock_synthesizer
    from dubset_tts.quality import ResemblyzerEmbedder

    return stock_synthesizer(name, voice, ResemblyzerEmbedder())
