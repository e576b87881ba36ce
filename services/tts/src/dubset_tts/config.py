"""TTS settings from the environment: the YourTTS model directory and the Whisper model dir."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dubset_common.errors import ConfigError


@dataclass(frozen=True)
class TtsConfig:
    """yourtts_dir: the model directory YourTTS loads when a request names none
    (DUBSET_TTS_YOURTTS_DIR); whisper_dir: the speech-translation model
    (DUBSET_TTS_WHISPER_DIR, else the translator's own default)."""

    yourtts_dir: Path | None = None
    whisper_dir: Path | None = None


def _dir(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    path = Path(raw)
    if not path.is_absolute():
        raise ConfigError(f"{name} must be an absolute path, not {raw!r}")
    return path


def load_config(env: Mapping[str, str] | None = None) -> TtsConfig:
    env = os.environ if env is None else env
    return TtsConfig(
        yourtts_dir=_dir(env, "DUBSET_TTS_YOURTTS_DIR"),
        whisper_dir=_dir(env, "DUBSET_TTS_WHISPER_DIR"),
    )
