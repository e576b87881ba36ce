"""Backend selection: a requested backend loads or fails loudly, never a silent substitute."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from dubset_asr.assemble import BASE_MODEL_SHA256, default_base_dir, models_root
from dubset_asr.core.model import AsrBackend, AsrInputError
from dubset_common.config import model_device

FASTER_WHISPER = "faster-whisper"
AWS_TRANSCRIBE = "aws-transcribe"
BACKENDS = (FASTER_WHISPER, AWS_TRANSCRIBE)
DEFAULT_BACKEND = FASTER_WHISPER
DEFAULT_MODEL = "base"
SETUP_HINT = "run `make setup` or `python -m dubset_asr.assemble`"
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

_lock = threading.Lock()
_loaded: dict[tuple[str, str, str, str, bool], AsrBackend] = {}


def check_model_name(model: str) -> str:
    if model and (not _MODEL_NAME.fullmatch(model) or ".." in model):
        raise AsrInputError(f"model must be a name like large-v3, not {model!r:.60}")
    return model


def resolve_whisper(model: str, model_dir: Path | None) -> tuple[Path, str, str | None, str]:
    """(directory, model name, expected model.bin sha256 or None, what to do when it is missing)."""
    if model_dir is not None:
        return model_dir, model or model_dir.name, None, "pass a CTranslate2 Whisper directory"
    if model in ("", DEFAULT_MODEL):
        return default_base_dir(), DEFAULT_MODEL, BASE_MODEL_SHA256, SETUP_HINT
    check_model_name(model)
    root = models_root()
    for candidate in (root / f"whisper-{model}", root / model):
        if candidate.is_dir():
            return candidate, model, None, ""
    hint = (
        f"put a CTranslate2 Whisper model (e.g. converted with ct2-transformers-converter) in "
        f"{root / f'whisper-{model}'} (DUBSET_MODEL_DIR sets the root) or pass --model-dir"
    )
    return root / f"whisper-{model}", model, None, hint


def compute_type_for(device: str) -> str:
    """int8 on CPU (the embedded default), float16 on a GPU (the paper's large-v3 setting)."""
    return "int8" if device == "cpu" else "float16"


def load_backend(
    backend: str,
    model: str = "",
    model_dir: Path | None = None,
    check_language: bool | None = None,
) -> AsrBackend:
    """The requested backend, loaded once per process and model. check_language: whether a
    track that sounds like another language fails (None: DUBSET_ASR_CHECK_LANGUAGE, on)."""
    backend = backend or DEFAULT_BACKEND
    if backend == FASTER_WHISPER:
        path, name, sha, hint = resolve_whisper(model, model_dir)
        device = model_device()
        check = (
            os.environ.get("DUBSET_ASR_CHECK_LANGUAGE", "1").strip() not in ("0", "false")
            if check_language is None
            else check_language
        )
        key = (backend, name, str(path.resolve()), device, check)
        with _lock:
            if key not in _loaded:
                from dubset_asr.backends.whisper import FasterWhisperBackend

                _loaded[key] = FasterWhisperBackend(
                    path,
                    name,
                    expected_sha256=sha,
                    hint=hint,
                    device=device,
                    compute_type=compute_type_for(device),
                    check_language=check,
                )
            return _loaded[key]
    if backend == AWS_TRANSCRIBE:
        if model_dir is not None or model not in ("", "aws"):
            raise AsrInputError("aws-transcribe takes no model or model directory")
        from dubset_asr.backends.aws import AwsTranscribeBackend

        return AwsTranscribeBackend.from_env()
    raise AsrInputError(f"unknown ASR backend {backend!r:.40}; choose one of {', '.join(BACKENDS)}")
