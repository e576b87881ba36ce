"""The paper's shot detector (TransNetV2) from a model directory: real TorchScript loading on
a small model built here, TransNetV2's 100-frame windows, cuts where a transition run ends;
a directory that is not such a model is refused when the backend loads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from dubset_faces.backends.transnet_shots import TransNetShots
from dubset_faces.detectors import DetectorSpec, load_shot_detector

from dubset_common.errors import ConfigError


class TinyTransNet(torch.nn.Module):
    """A logit per frame of (1, T, 27, 48, 3) uint8: high on a frame whose next one differs
    (the last frame of a shot, as TransNetV2 marks a hard cut)."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        means = x[0].float().mean(dim=(1, 2, 3))
        change = torch.cat([(means[1:] - means[:-1]).abs(), torch.zeros(1)])
        return (change * 10.0 - 5.0)[None, :, None], means


class NotTransNet(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.float().mean()[None]


def model_dir(tmp: Path, module: torch.nn.Module) -> Path:
    torch.jit.script(module).save(str(tmp / "transnetv2.torchscript"))
    meta = {"kind": "transnetv2", "file": "transnetv2.torchscript", "threshold": 0.5}
    (tmp / "dubset-model.json").write_text(json.dumps(meta))
    return tmp


def test_cuts_across_windows_and_at_the_end(tmp_path: Path) -> None:
    detector = load_shot_detector(
        DetectorSpec("transnetv2", 0, str(model_dir(tmp_path, TinyTransNet()))), None
    )  # type: ignore[arg-type]
    assert detector.name == "transnetv2:transnetv2.torchscript"
    colours = [0] * 40 + [200] * 90 + [60] * 130 + [250] * 3  # cuts at 40, 130 and 260
    found: list[int] = []
    for i, level in enumerate(colours):
        found += detector.push(i, np.full((90, 160, 3), level, np.uint8))
    found += detector.flush()
    assert found == [40, 130, 260]


def test_a_directory_that_is_not_a_transnetv2_model_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="no dubset-model"):
        TransNetShots(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(ConfigError, match="not a TransNetV2 model"):
        TransNetShots(model_dir(other, NotTransNet()))
    monkeypatch.delenv("DUBSET_FACES_TRANSNET_DIR", raising=False)
    with pytest.raises(ConfigError, match="needs a model directory"):
        load_shot_detector(DetectorSpec("transnetv2"), None)  # type: ignore[arg-type]
