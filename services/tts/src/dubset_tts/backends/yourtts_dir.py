"""A YourTTS model dir: its files found and checked, every path inside the dir."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from dubset_tts.core.model import BackendUnavailableError

# As released (tts_models/multilingual/multi-dataset/your_tts) or as a trainer run leaves it.
CHECKPOINTS = ("model_file.pth", "model_file.pth.tar", "model.pth", "best_model.pth")
# Config fields that name files, with the names coqui falls back to (as its downloader does).
FILE_FIELDS: dict[str, tuple[str, ...]] = {
    "d_vector_file": ("speakers.pth", "speakers.json"),
    "language_ids_file": ("language_ids.json", "languages.json"),
    "speaker_encoder_model_path": ("model_se.pth", "model_se.pth.tar"),
    "speaker_encoder_config_path": ("config_se.json",),
}
REQUIRED = ("speaker_encoder_model_path", "speaker_encoder_config_path")


@dataclass(frozen=True)
class ModelFiles:
    """The files of a YourTTS model dir; every path lies in the dir."""

    checkpoint: Path
    config: dict[str, Any]
    config_sha256: str
    encoder_checkpoint: Path
    encoder_config: dict[str, Any]
    d_vectors: Path | None
    languages: Path | None


def unavailable(model_dir: Path, why: str) -> BackendUnavailableError:
    return BackendUnavailableError(f"YourTTS model dir {model_dir}: {why}")


def _read_json(model_dir: Path, path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise unavailable(model_dir, f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise unavailable(model_dir, f"{path} is not a JSON object")
    return data


def _named(config: dict[str, Any], field: str) -> list[str]:
    args = config.get("model_args") or {}
    names: list[str] = []
    for value in (args.get(field) if isinstance(args, dict) else None, config.get(field)):
        for item in value if isinstance(value, list) else [value]:
            if item and str(item) not in names:
                names.append(str(item))
    return names


def _config_file(model_dir: Path, config: dict[str, Any], field: str) -> Path | None:
    """The file a config field names, re-rooted into the model dir as coqui's downloader does:
    the named file's name first (model_args before the top level), then the release's names.
    Nothing is read outside the dir: a URL is refused, and so is a named file not found here."""
    named = _named(config, field)
    for value in named:
        base = PurePath(value).name
        if "://" in value or "::" in value or base in ("", ".", ".."):
            raise unavailable(model_dir, f"config.json {field}={value!r} is not a model dir file")
    names = [PurePath(v).name for v in named] + list(FILE_FIELDS[field])
    found = next((model_dir / n for n in names if (model_dir / n).is_file()), None)
    if found is not None:
        return found
    if named:
        raise unavailable(
            model_dir,
            f"config.json {field}={named[0]!r}: put {names[0]} into the model dir "
            "(files are read from the model dir only)",
        )
    if field in REQUIRED:
        raise unavailable(model_dir, f"missing {model_dir / names[0]} ({field})")
    return None


def _check_audio(model_dir: Path, config: dict[str, Any], name: str) -> None:
    # AudioProcessor reads stats_path with np.load(allow_pickle=True): code from a file.
    if (config.get("audio") or {}).get("stats_path"):
        raise unavailable(model_dir, f"{name} audio.stats_path is not supported")


def locate(model_dir: Path) -> ModelFiles:
    """Check a model dir and find its files; BackendUnavailableError names what is missing."""
    if not model_dir.is_dir():
        raise unavailable(
            model_dir,
            "no such directory (needs config.json, model_file.pth, model_se.pth, config_se.json)",
        )
    config_path = model_dir / "config.json"
    if not config_path.is_file():
        raise unavailable(model_dir, f"missing {config_path}")
    checkpoint = next((model_dir / n for n in CHECKPOINTS if (model_dir / n).is_file()), None)
    if checkpoint is None:
        raise unavailable(model_dir, f"missing {model_dir / CHECKPOINTS[0]} (or {CHECKPOINTS[1:]})")
    config = _read_json(model_dir, config_path)
    args = config.get("model_args")
    if config.get("model") != "vits" or not isinstance(args, dict):
        raise unavailable(model_dir, f"config.json model {config.get('model')!r} is not VITS")
    if not args.get("use_d_vector_file"):
        raise unavailable(model_dir, "config.json: not a d-vector (YourTTS) model")
    chars_class = str((config.get("characters") or {}).get("characters_class") or "TTS.")
    if not chars_class.startswith("TTS."):
        raise unavailable(model_dir, f"characters_class {chars_class!r} is not a coqui class")
    _check_audio(model_dir, config, "config.json")
    encoder_config_path = _config_file(model_dir, config, "speaker_encoder_config_path")
    encoder_checkpoint = _config_file(model_dir, config, "speaker_encoder_model_path")
    assert encoder_config_path is not None and encoder_checkpoint is not None
    encoder_config = _read_json(model_dir, encoder_config_path)
    _check_audio(model_dir, encoder_config, encoder_config_path.name)
    return ModelFiles(
        checkpoint=checkpoint,
        config=config,
        config_sha256=hashlib.sha256(config_path.read_bytes()).hexdigest(),
        encoder_checkpoint=encoder_checkpoint,
        encoder_config=encoder_config,
        d_vectors=_config_file(model_dir, config, "d_vector_file"),
        languages=_config_file(model_dir, config, "language_ids_file"),
    )


def inference_config(files: ModelFiles) -> dict[str, Any]:
    """The config with its file names pointing into the model dir, for inference only."""
    config: dict[str, Any] = json.loads(json.dumps(files.config))
    d_vectors = [str(files.d_vectors)] if files.d_vectors else None
    config["d_vector_file"] = d_vectors
    config["speakers_file"] = None
    config["model_args"].update(
        d_vector_file=d_vectors,
        speakers_file=None,
        language_ids_file=str(files.languages) if files.languages else None,
        # The encoder is loaded here, from the checked files; the loss and the GAN
        # discriminator only matter in training.
        speaker_encoder_model_path="",
        speaker_encoder_config_path="",
        use_speaker_encoder_as_loss=False,
        init_discriminator=False,
    )
    return config
