"""Anime faces by a YOLOv5 detector (the AniVid paper's: YOLOv5x trained on anime faces) from a
model directory: the TorchScript export of YOLOv5 (`export.py --include torchscript`) beside a
`dubset-model.json` saying what it is:

    {"kind": "yolov5-anime-face", "file": "best.torchscript", "input_size": 640,
     "classes": ["face"], "face_class": 0}

A frame is letterboxed to input_size (grey 114 padding, as YOLOv5 trains), the model's first
output (1, N, 5 + classes: centre x, y, width, height, objectness, class scores) is decoded,
kept where objectness times the face class score reaches the threshold (the paper's 0.6), and
overlapping boxes are merged by non-maximum suppression (IoU 0.45). A directory that is not
such a model (no file, another kind, a model whose output has another shape) is refused when
the backend loads, not at the first frame."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from dubset_common.errors import ConfigError
from dubset_faces.backends.modeldir import load_torchscript, read_meta
from dubset_faces.core.model import Detection, Frame
from dubset_faces.core.tracks import iou

KIND = "yolov5-anime-face"
NMS_IOU = 0.45
PAD = 114


class YoloFaceDetector:
    def __init__(self, model_dir: Path, min_score: float = 0.6) -> None:
        import torch

        meta, path = read_meta(Path(model_dir), KIND, "YOLOv5 anime face detector")
        self._model = load_torchscript(path)
        self._torch = torch
        self.size = int(meta.get("input_size", 640))  # type: ignore[call-overload]
        classes = meta.get("classes", ["face"])
        self.classes = len(classes) if isinstance(classes, list) else 1
        self.face_class = int(meta.get("face_class", 0))  # type: ignore[call-overload]
        self.min_score = min_score
        self.name = f"yolov5:{path.name}"
        probe = self._forward(np.zeros((self.size, self.size, 3), np.uint8))
        if probe.ndim != 2 or probe.shape[1] != 5 + self.classes:
            raise ConfigError(
                f"{path}: the output is {tuple(probe.shape)}, not (N, {5 + self.classes}) "
                "(centre x, y, w, h, objectness, class scores): not a YOLOv5 detector"
            )

    def detect(self, frame: Frame) -> Sequence[Detection]:
        h, w = frame.shape[:2]
        scale = min(self.size / w, self.size / h)
        nw, nh = round(w * scale), round(h * scale)
        left, top = (self.size - nw) // 2, (self.size - nh) // 2
        canvas = np.full((self.size, self.size, 3), PAD, np.uint8)
        canvas[top : top + nh, left : left + nw] = cv2.resize(
            frame, (nw, nh), interpolation=cv2.INTER_AREA
        )
        out = self._forward(canvas)
        score = out[:, 4] * out[:, 5 + self.face_class]
        keep = score >= self.min_score
        boxes = []
        for (cx, cy, bw, bh), s in zip(out[keep, :4], score[keep], strict=True):
            x = (float(cx) - float(bw) / 2 - left) / scale
            y = (float(cy) - float(bh) / 2 - top) / scale
            boxes.append(((x, y, float(bw) / scale, float(bh) / scale), round(float(s), 4)))
        return [Detection(b, s) for b, s in _nms(boxes)]

    def _forward(self, canvas: Frame) -> npt.NDArray[np.float32]:
        torch = self._torch
        tensor = torch.from_numpy(np.ascontiguousarray(canvas)).permute(2, 0, 1)[None].float()
        with torch.inference_mode():
            out = self._model(tensor / 255.0)
        if isinstance(out, list | tuple):
            out = out[0]
        return np.asarray(out.detach().numpy()[0], np.float32)


def _nms(boxes: list[tuple[tuple[float, float, float, float], float]]) -> list[tuple]:  # type: ignore[type-arg]
    kept: list[tuple] = []  # type: ignore[type-arg]
    for box, score in sorted(boxes, key=lambda b: -b[1]):
        if all(iou(box, k[0]) < NMS_IOU for k in kept):
            kept.append((box, score))
    return sorted(kept, key=lambda b: (b[0][0], b[0][1]))
