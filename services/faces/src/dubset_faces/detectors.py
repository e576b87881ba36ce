"""Which shot and face detectors a request names, loaded; a backend that cannot load raises
(a request never silently falls back to another)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from dubset_common.errors import ConfigError
from dubset_faces.backends.animeface_faces import AnimeFaceDetector
from dubset_faces.backends.scenedetect_shots import DETECTORS, SceneDetectShots
from dubset_faces.core.model import FaceDetector, FacesInputError, ShotDetector

SHOT_BACKENDS = (*DETECTORS, "transnetv2")
TRANSNET_DIR_ENV = "DUBSET_FACES_TRANSNET_DIR"
FACE_BACKENDS = ("animeface", "yolov5")
YOLO_DIR_ENV = "DUBSET_FACES_YOLO_DIR"


@dataclass(frozen=True)
class DetectorSpec:
    kind: str
    threshold: float = 0.0  # 0: the backend's default
    model_dir: str = ""


def load_shot_detector(spec: DetectorSpec, fps: Fraction) -> ShotDetector:
    if spec.kind in DETECTORS:
        return SceneDetectShots(spec.kind, fps, spec.threshold)
    if spec.kind == "transnetv2":
        from dubset_faces.backends.transnet_shots import TransNetShots

        directory = spec.model_dir or os.environ.get(TRANSNET_DIR_ENV, "")
        if not directory:
            raise ConfigError(
                f"the transnetv2 shot detector needs a model directory ({TRANSNET_DIR_ENV})"
            )
        return TransNetShots(Path(directory))
    raise FacesInputError(f"unknown shot detector {spec.kind!r}; have {', '.join(SHOT_BACKENDS)}")


def load_face_detector(spec: DetectorSpec) -> FaceDetector:
    if spec.kind == "animeface":
        return AnimeFaceDetector(spec.threshold or 0.6)
    if spec.kind == "yolov5":
        from dubset_faces.backends.yolo_faces import YoloFaceDetector

        directory = spec.model_dir or os.environ.get(YOLO_DIR_ENV, "")
        if not directory:
            raise ConfigError(f"the yolov5 face detector needs a model directory ({YOLO_DIR_ENV})")
        return YoloFaceDetector(Path(directory), spec.threshold or 0.6)
    raise FacesInputError(f"unknown face detector {spec.kind!r}; have {', '.join(FACE_BACKENDS)}")
