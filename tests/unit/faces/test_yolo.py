"""The paper's face detector (YOLOv5) from a model directory: real TorchScript loading on a
small model built here, the letterbox undone, low scores dropped, overlaps merged; a directory
that is not such a model is refused when the backend loads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from dubset_faces.backends.yolo_faces import YoloFaceDetector
from dubset_faces.detectors import DetectorSpec, load_face_detector

from dubset_common.errors import ConfigError


class TinyYolo(torch.nn.Module):
    """Three predictions in YOLOv5's layout (cx, cy, w, h, objectness, face score) on a 64 px
    input: a face at the centre of the brightest column, its near duplicate, and a weak one."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        column = x[0].mean(dim=(0, 1)).argmax().float()
        one = torch.stack([column, torch.tensor(32.0), torch.tensor(16.0), torch.tensor(16.0),
                           torch.tensor(0.95), torch.tensor(0.9)])  # fmt: skip
        dup = one + torch.tensor([1.0, 0.0, 0.0, 0.0, -0.1, 0.0])
        weak = torch.tensor([10.0, 10.0, 8.0, 8.0, 0.3, 0.5])
        return torch.stack([one, dup, weak])[None], x.mean()[None]


class NotYolo(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1)


def model_dir(tmp: Path, module: torch.nn.Module, **meta: object) -> Path:
    torch.jit.script(module).save(str(tmp / "best.torchscript"))
    value = {"kind": "yolov5-anime-face", "file": "best.torchscript", "input_size": 64,
             "classes": ["face"], "face_class": 0, **meta}  # fmt: skip
    (tmp / "dubset-model.json").write_text(json.dumps(value))
    return tmp


def test_a_yolov5_export_finds_the_face_through_the_letterbox(tmp_path: Path) -> None:
    directory = model_dir(tmp_path, TinyYolo())
    detector = load_face_detector(DetectorSpec("yolov5", 0.6, str(directory)))
    assert detector.name == "yolov5:best.torchscript"
    frame = np.zeros((64, 128, 3), np.uint8)  # letterboxed to 64x32 at the middle of 64x64
    frame[:, 100:104] = 255  # the brightest columns: x 100-103 -> 50-51 after the scale
    (face,) = detector.detect(frame)
    x, y, w, h = face.box
    assert (round(w), round(h)) == (32, 32) and face.score == pytest.approx(0.855, abs=1e-3)
    assert x + w / 2 == pytest.approx(100, abs=3) and y + h / 2 == pytest.approx(32, abs=1)


def test_a_directory_that_is_not_a_yolov5_detector_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match=r"no dubset-model\.json"):
        YoloFaceDetector(tmp_path)
    (tmp_path / "dubset-model.json").write_text(json.dumps({"kind": "transnetv2", "file": "x"}))
    with pytest.raises(ConfigError, match="kind must be"):
        YoloFaceDetector(tmp_path)
    (tmp_path / "other").mkdir()
    shaped = model_dir(tmp_path / "other", NotYolo())
    with pytest.raises(ConfigError, match="not a YOLOv5 detector"):
        YoloFaceDetector(shaped)
    (shaped / "best.torchscript").write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="not a TorchScript model"):
        YoloFaceDetector(shaped)
    monkeypatch.delenv("DUBSET_FACES_YOLO_DIR", raising=False)
    with pytest.raises(ConfigError, match="needs a model directory"):
        load_face_detector(DetectorSpec("yolov5"))
