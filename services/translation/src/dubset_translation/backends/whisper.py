"""`whisper`: speech translation by the ASR model (Whisper task="translate") of each Japanese
line's audio: the embedded baseline, a plumbing baseline rather than a translator (INFRA.md)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr  # type: ignore[import-untyped]

from dubset_asr.backends import compute_type_for, resolve_whisper
from dubset_asr.backends.whisper import check_model_dir, open_whisper
from dubset_asr.core.model import ModelUnavailableError
from dubset_common.keys import file_sha256
from dubset_common.whisperdecode import speech_translation
from dubset_translation.core.model import JaLine, TranslationInputError

RATE = 16000
PAD_MS = 150  # audio either side of a line
_lock = threading.Lock()
_loaded: dict[tuple[str, str], Any] = {}


class WhisperTranslator:
    """Translates each line from the Japanese dialogue audio (a file soundfile reads)."""

    def __init__(self, model: str = "", model_dir: Path | None = None, device: str = "cpu"):
        path, name, sha, hint = resolve_whisper(model, model_dir)
        check_model_dir(path, hint)
        if sha is not None and file_sha256(path / "model.bin") != sha:
            raise ModelUnavailableError(f"{path}/model.bin is not the recorded model; {hint}")
        key = (str(path.resolve()), device)
        with _lock:
            if key not in _loaded:
                _loaded[key] = open_whisper(path, device, compute_type_for(device), 2)
        self._model, self.name = _loaded[key], f"whisper-translate:{name}"

    def translate(self, audio: Path, lines: Sequence[JaLine]) -> list[str]:
        try:
            samples, rate = sf.read(audio, dtype="float32", always_2d=True)
        except (RuntimeError, sf.LibsndfileError) as exc:
            raise TranslationInputError(f"cannot read the Japanese dialogue: {exc}") from None
        mono = samples.mean(axis=1)
        if rate != RATE:
            mono = soxr.resample(mono, rate, RATE)
        return [self._one(mono, line) for line in lines]

    def _one(self, mono: np.ndarray, line: JaLine) -> str:
        a = max(0, (line.start_ms - PAD_MS) * RATE // 1000)
        b = min(len(mono), (line.end_ms + PAD_MS) * RATE // 1000)
        if b - a < RATE // 10:
            return ""
        return speech_translation(self._model, np.ascontiguousarray(mono[a:b], np.float32))
