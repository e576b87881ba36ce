"""The paper's backend: a pyannote.audio speaker-diarization pipeline from a local model
directory (config.yaml plus the segmentation and embedding checkpoints and the PLDA it names,
the layout of pyannote's 4.x releases). Never a hub id: every model reference must resolve to
a file or directory inside the model directory, and is handed to pyannote as a local
checkpoint (a mapping, so pyannote never routes it by name to another loader)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml  # type: ignore[import-untyped]

from dubset_common.keys import file_sha256
from dubset_diarization.core.model import (
    SAMPLE_RATE,
    BackendUnavailableError,
    FloatArray,
    SpeakerBounds,
    Turn,
)

NAME = "pyannote"
NOT_INSTALLED = (
    "pyannote.audio is not installed in this image; use the GPU image or --backend embedded"
)
CONFIG_FILE = "config.yaml"
# pyannote.audio 4.0 loads a PLDA even for agglomerative clustering (from the hub when the
# config names none): a directory with xvec_transform.npz and plda.npz.
MODEL_KEYS = ("segmentation", "embedding", "plda")
HUB_ENV = {
    "PYANNOTE_METRICS_ENABLED": "0",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}


@dataclass(frozen=True)
class ResolvedConfig:
    """A pyannote pipeline config with its model references resolved to local paths."""

    config: dict[str, Any]
    files: dict[str, Path]


def _resolve(model_dir: Path, key: str, value: object) -> Path:
    if not isinstance(value, str) or not value:
        raise BackendUnavailableError(
            f"{CONFIG_FILE}: pipeline.params.{key} must be a path inside the model directory"
        )
    rel = value.removeprefix("$model/")
    root = model_dir.resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise BackendUnavailableError(
            f"{CONFIG_FILE}: pipeline.params.{key} = {value!r} is outside {model_dir}; "
            "every file the pipeline loads must be inside its model directory"
        )
    if not path.exists():
        raise BackendUnavailableError(
            f"{CONFIG_FILE}: pipeline.params.{key} = {value!r} is not a file under {model_dir}; "
            "hub ids are not loaded, put the checkpoint in the model directory"
        )
    return path


def load_config(model_dir: Path) -> ResolvedConfig:
    """Read <model_dir>/config.yaml and point its model references at local files."""
    path = model_dir / CONFIG_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BackendUnavailableError(
            f"no pyannote pipeline config at {path} ({exc.strerror or exc})"
        ) from None
    except yaml.YAMLError as exc:
        raise BackendUnavailableError(f"{path}: not valid YAML ({exc})") from None
    pipeline = raw.get("pipeline") if isinstance(raw, dict) else None
    if not isinstance(pipeline, dict) or not isinstance(pipeline.get("name"), str):
        raise BackendUnavailableError(f"{path}: has no pipeline.name")
    params = pipeline.setdefault("params", {})
    if not isinstance(params, dict):
        raise BackendUnavailableError(f"{path}: pipeline.params must be a mapping")
    files = {CONFIG_FILE: path.resolve()}
    for key in MODEL_KEYS:
        if key in params:
            resolved = _resolve(model_dir, key, params[key])
            params[key] = {"checkpoint": str(resolved)}
            files[key] = resolved
    if "plda" not in params:
        raise BackendUnavailableError(
            f"{path}: pipeline.params.plda is missing; pyannote.audio 4 would fetch one from the "
            "hub: put the PLDA (xvec_transform.npz, plda.npz) in the model directory"
        )
    return ResolvedConfig(raw, files)


def checksums(files: Mapping[str, Path]) -> dict[str, str]:
    """sha256 of every model file (of every file inside a referenced directory)."""
    out: dict[str, str] = {}
    for name, path in sorted(files.items()):
        if path.is_dir():
            for sub in sorted(p for p in path.rglob("*") if p.is_file()):
                out[f"{name}/{sub.relative_to(path)}"] = file_sha256(sub)
        else:
            out[name] = file_sha256(path)
    return out


def _import_pipeline() -> Any:
    for key, value in HUB_ENV.items():
        os.environ.setdefault(key, value)
    try:
        from pyannote.audio import Pipeline
    except ImportError as exc:
        raise BackendUnavailableError(f"{NOT_INSTALLED} ({exc})") from None
    except OSError as exc:
        raise BackendUnavailableError(f"{NOT_INSTALLED} (it does not load: {exc})") from None
    return Pipeline


class PyannoteDiarizer:
    """pyannote.audio Pipeline.from_pretrained(<resolved config.yaml>) on an in-memory waveform."""

    def __init__(self, model_dir: Path, workdir: Path, device: str = "cpu") -> None:
        pipeline_cls = _import_pipeline()
        import pyannote.audio
        import torch

        self.version = str(getattr(pyannote.audio, "__version__", "unknown"))
        if device != "cpu" and not torch.cuda.is_available():
            raise BackendUnavailableError(f"pyannote: device {device!r} is not available here")
        resolved = load_config(model_dir)
        self.checksums = checksums(resolved.files)
        workdir.mkdir(parents=True, exist_ok=True)
        config_path = workdir / CONFIG_FILE
        config_path.write_text(yaml.safe_dump(resolved.config, sort_keys=True), encoding="utf-8")
        torch.manual_seed(0)
        try:
            pipeline = pipeline_cls.from_pretrained(str(config_path))
        except Exception as exc:  # any failure to load is the model directory's fault
            raise BackendUnavailableError(
                f"pyannote.audio could not load the pipeline in {model_dir}: "
                f"{type(exc).__name__}: {str(exc)[:300]}"
            ) from None
        if pipeline is None:
            raise BackendUnavailableError(f"pyannote.audio could not load {model_dir}")
        check_pipeline(pipeline, model_dir)
        self._pipeline = pipeline.to(torch.device(device))
        self._torch = torch

    def diarize(self, audio: Iterable[FloatArray], bounds: SpeakerBounds) -> list[Turn]:
        chunks = list(audio)
        wave = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        if len(wave) == 0:
            return []
        waveform = self._torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32))[None]
        kwargs = {
            k: v
            for k, v in (
                ("num_speakers", bounds.num),
                ("min_speakers", None if bounds.num else bounds.min),
                ("max_speakers", None if bounds.num else bounds.max),
            )
            if v is not None
        }
        output = self._pipeline({"waveform": waveform, "sample_rate": SAMPLE_RATE}, **kwargs)
        return turns_of(getattr(output, "speaker_diarization", output))


SEGMENTATION_PROBLEMS = ("MONO_LABEL_CLASSIFICATION", "MULTI_LABEL_CLASSIFICATION")


def check_pipeline(pipeline: Any, model_dir: Path) -> None:
    """What pyannote loads without complaint but cannot run: a segmentation checkpoint that is
    not a frame classifier (an embedding model in its place), or params the models do not take
    (pyannote then fails on the first file, not at load)."""
    model = getattr(getattr(pipeline, "_segmentation", None), "model", None)
    if model is not None:
        specs = model.specifications
        problems = {getattr(s.problem, "name", str(s.problem)) for s in _as_tuple(specs)}
        if not problems <= set(SEGMENTATION_PROBLEMS):
            raise BackendUnavailableError(
                f"{model_dir}: the segmentation checkpoint is a {type(model).__name__} "
                f"({', '.join(sorted(problems))}), not a segmentation model"
            )
    if not getattr(pipeline, "instantiated", True):
        raise BackendUnavailableError(
            f"{model_dir}: {CONFIG_FILE}'s params do not fit the pipeline's models"
        )


def _as_tuple(specs: Any) -> tuple[Any, ...]:
    return tuple(specs) if isinstance(specs, tuple) else (specs,)


def turns_of(annotation: Any) -> list[Turn]:
    """Turns of a pyannote.core Annotation (overlapping turns kept), integer milliseconds."""
    return [
        Turn(round(segment.start * 1000), round(segment.end * 1000), str(label))
        for segment, _track, label in annotation.itertracks(yield_label=True)
    ]
