"""A model directory of the paper's detectors: a TorchScript export beside dubset-model.json
naming its kind and file; anything else is refused when the backend loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dubset_common.errors import ConfigError

META = "dubset-model.json"


def read_meta(model_dir: Path, kind: str, what: str) -> tuple[dict[str, object], Path]:
    """dubset-model.json of a directory holding `kind` (what: words for the error), and the
    model file it names."""
    path = model_dir / META
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{model_dir} is not a {what} directory: no {META} ({exc})") from None
    except ValueError as exc:
        raise ConfigError(f"{path} is not JSON ({exc})") from None
    if not isinstance(value, dict) or value.get("kind") != kind:
        raise ConfigError(f"{path}: kind must be {kind!r} (a {what})")
    name = value.get("file")
    if not isinstance(name, str) or not name or "/" in name:
        raise ConfigError(f"{path}: file must name the TorchScript model in the directory")
    model = model_dir / name
    if not model.is_file():
        raise ConfigError(f"{model_dir}: {name} (named in {META}) is not there")
    return value, model


def load_torchscript(path: Path) -> Any:
    """The TorchScript module at path, on the CPU, in eval mode."""
    import torch

    try:
        return torch.jit.load(str(path), map_location="cpu").eval()  # type: ignore[no-untyped-call]
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(f"{path} is not a TorchScript model ({exc})") from None
