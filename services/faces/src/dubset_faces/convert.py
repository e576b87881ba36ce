"""The one place protobuf messages and the faces stage's values meet."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from dubset.v1 import faces_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.keys import check_id
from dubset_faces.core.anivid import Rules
from dubset_faces.core.model import FacesInputError
from dubset_faces.detectors import FACE_BACKENDS, SHOT_BACKENDS

_PLAIN_PATH = re.compile(r"^/[A-Za-z0-9._/-]{1,400}$")


@dataclass(frozen=True)
class FacesParams:
    """Validated faces params (hashed into the stage's output key)."""

    shot_detector: str = "adaptive"
    shot_threshold: float = 0.0
    face_detector: str = "animeface"
    face_threshold: float = 0.6
    stride: int = 24
    max_width: int = 640
    rules: Rules = field(default_factory=Rules)
    crop_size: int = 256
    full_frame: bool = True
    dataset: str = ""
    face_model_dir: str = ""
    shot_model_dir: str = ""


def params_from_proto(p: faces_pb2.FacesParams) -> FacesParams:
    shot = p.shot_detector or "adaptive"
    if shot not in SHOT_BACKENDS:
        raise FacesInputError(f"shot_detector must be one of {', '.join(SHOT_BACKENDS)}")
    face = p.face_detector or "animeface"
    if face not in FACE_BACKENDS:
        raise FacesInputError(f"face_detector must be one of {', '.join(FACE_BACKENDS)}")
    if not math.isfinite(p.shot_threshold) or not 0 <= p.shot_threshold <= 255:
        raise FacesInputError("shot_threshold must be 0..255")
    face_threshold = p.face_threshold or 0.6
    if not math.isfinite(face_threshold) or not 0 < face_threshold <= 1:
        raise FacesInputError("face_threshold must be in (0, 1]")
    stride = p.stride or 24
    if not 1 <= stride <= 240:
        raise FacesInputError("stride must be 1..240 frames")
    max_width = p.max_width or 640
    if not 160 <= max_width <= 3840:
        raise FacesInputError("max_width must be 160..3840")
    crop = p.crop_size or 256
    if not 64 <= crop <= 1024 or crop % 2:
        raise FacesInputError("crop_size must be even, 64..1024")
    base = Rules()
    rules = Rules(
        faces_per_frame=p.faces_per_frame
        if p.HasField("faces_per_frame")
        else base.faces_per_frame,
        min_motion=p.min_motion if p.HasField("min_motion") else base.min_motion,
        min_ms=p.min_clip_ms if p.HasField("min_clip_ms") else base.min_ms,
        max_ms=p.max_clip_ms if p.HasField("max_clip_ms") else base.max_ms,
        crop_scale=p.crop_scale if p.HasField("crop_scale") else base.crop_scale,
    )
    if not all(math.isfinite(v) for v in (rules.min_motion, rules.crop_scale)):
        raise FacesInputError("min_motion and crop_scale must be finite")
    rules.check()
    full = p.full_frame if p.HasField("full_frame") else True
    if p.dataset:
        try:
            check_id(p.dataset, "dataset name")
        except InvalidInputError as exc:
            raise FacesInputError(str(exc)) from None
    dirs = (("face_model_dir", p.face_model_dir, face == "yolov5"),
            ("shot_model_dir", p.shot_model_dir, shot == "transnetv2"))  # fmt: skip
    for name, value, wanted in dirs:
        plain = _PLAIN_PATH.fullmatch(value) and ".." not in value.split("/")
        if value and not (wanted and plain and "." not in value.split("/")):
            raise FacesInputError(f"{name} must be a plain absolute path, for its model only")
    return FacesParams(shot, p.shot_threshold, face, face_threshold, stride, max_width, rules,
                       crop, full, p.dataset, p.face_model_dir, p.shot_model_dir)  # fmt: skip
