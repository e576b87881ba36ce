"""What the dub says: the EN transcript ("reference") or Whisper's JA speech translation."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from dubset_common.whisperdecode import speech_translation
from dubset_tts.core.backend import Translator
from dubset_tts.core.model import BackendUnavailableError, ClipSpec, Speech, TtsInputError
from dubset_voices.dsp import resample

TRANSLATORS = ("reference", "whisper")
WHISPER_RATE = 16000
WHISPER_FILES = ("model.bin", "config.json")


class ReferenceTranslator:
    """The clip's EN transcript; an empty transcript is skipped by the core, not spoken."""

    name = "reference"

    def backend(self) -> str:
        return "reference"

    def translate(self, clip: ClipSpec, ja_speech: Speech | None) -> str:
        return " ".join(clip.en_text.split())


def default_whisper_dir() -> Path:
    env = os.environ.get("DUBSET_ASR_MODEL_DIR", "")
    return Path(env) if env else Path(sys.prefix) / "share" / "dubset" / "models" / "whisper-base"


class WhisperTranslator:
    """faster-whisper task="translate" (language ja) on the clip's JA dialogue span.

    int8 on CPU, two fixed threads, beam 5 at temperature 0 only, no conditioning on earlier
    text: the same audio gives the same words.
    """

    name = "whisper"

    def __init__(self, model_dir: Path, cpu_threads: int = 2) -> None:
        missing = [n for n in WHISPER_FILES if not (model_dir / n).is_file()]
        if not model_dir.is_dir() or missing:
            raise BackendUnavailableError(
                f"Whisper model directory {str(model_dir)!r} is missing or incomplete "
                f"(needs {', '.join(WHISPER_FILES)}); set DUBSET_ASR_MODEL_DIR or run `make setup`"
            )
        self.model_dir = model_dir
        self._cpu_threads = cpu_threads
        self._model: Any = None
        self._lock = threading.Lock()

    def backend(self) -> str:
        with (self.model_dir / "config.json").open("rb") as f:
            config_sha = hashlib.sha256(f.read()).hexdigest()[:12]
        version = importlib.metadata.version("faster-whisper")
        return f"faster-whisper-{version}/{self.model_dir.name}:{config_sha}/translate"

    def _loaded(self) -> Any:
        if self._model is None:
            from faster_whisper import WhisperModel

            try:
                self._model = WhisperModel(
                    str(self.model_dir),
                    device="cpu",
                    compute_type="int8",
                    cpu_threads=self._cpu_threads,
                    num_workers=1,
                    local_files_only=True,
                )
            except (RuntimeError, ValueError, OSError) as exc:
                raise BackendUnavailableError(f"cannot load {self.model_dir}: {exc}") from exc
        return self._model

    def translate(self, clip: ClipSpec, ja_speech: Speech | None) -> str:
        if ja_speech is None:
            raise TtsInputError(
                f"clip {clip.clip_id}: speech translation needs the JA dialogue stem"
            )
        audio = resample(ja_speech.samples, ja_speech.rate, WHISPER_RATE)
        if audio.size < WHISPER_RATE // 10:
            return ""
        with self._lock:
            return speech_translation(self._loaded(), np.ascontiguousarray(audio, np.float32))


def load_translator(name: str, model_dir: Path | None = None) -> Translator:
    """ "" / "reference": the EN transcript; "whisper": JA speech translated by Whisper."""
    name = name or "reference"
    if name == "reference":
        return ReferenceTranslator()
    if name == "whisper":
        return WhisperTranslator(model_dir or default_whisper_dir())
    raise TtsInputError(f"unknown translation backend {name!r}; known: {', '.join(TRANSLATORS)}")
