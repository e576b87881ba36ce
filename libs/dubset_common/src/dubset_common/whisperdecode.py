"""Whisper's speech translation (task="translate") of a stretch of Japanese speech, shared by the
translation stage's `whisper` backend and the tts stage's per-clip baseline translator.

Beam 5 at temperature 0 only, no conditioning on earlier text, no timestamps, no VAD: the same
audio gives the same words.
"""

from __future__ import annotations

from typing import Any

TRANSLATE_OPTIONS: dict[str, Any] = {
    "language": "ja",
    "task": "translate",
    "beam_size": 5,
    "temperature": 0.0,
    "condition_on_previous_text": False,
    "without_timestamps": True,
    "vad_filter": False,
}


def speech_translation(model: Any, audio: Any) -> str:
    """The English words of `audio` (16 kHz mono float32) by a faster-whisper model, white space
    folded to single spaces."""
    segments, _info = model.transcribe(audio, **TRANSLATE_OPTIONS)
    return " ".join(" ".join(s.text.strip() for s in segments).split())
