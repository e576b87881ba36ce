"""Diarization settings from the environment: default backend and the pyannote model root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dubset_common.errors import ConfigError

BACKENDS = ("embedded", "pyannote")


@dataclass(frozen=True)
class DiarizationConfig:
    """backend: used when a request leaves it empty; pyannote_dir: holds config.yaml (or one
    subdirectory per model name, chosen by DiarizationParams.model)."""

    backend: str = "embedded"
    pyannote_dir: Path | None = None


def load_config(env: Mapping[str, str] | None = None) -> DiarizationConfig:
    env = os.environ if env is None else env
    backend = env.get("DUBSET_DIARIZATION_BACKEND", "embedded").strip() or "embedded"
    if backend not in BACKENDS:
        raise ConfigError(
            f"DUBSET_DIARIZATION_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}"
        )
    raw_dir = env.get("DUBSET_DIARIZATION_PYANNOTE_DIR", "").strip()
    return DiarizationConfig(backend, Path(raw_dir) if raw_dir else None)
