"""How open each tracked mouth is, frame by frame: a second decoding pass over the frames
that have tracks, measuring the dark share of the mouth region (an open anime mouth is a dark
shape inside the face's skin tone) against the face's own skin."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from dubset_common.ffmpeg import Tools
from dubset_faces import video
from dubset_faces.core.model import Box, Frame, Track

MOUTH_GROW = (1.6, 2.6)  # the mouth box widened, deepened downward (open mouths drop the jaw)


def mouth_openness(grey: Frame, face: Box, mouth: Box | None) -> float:
    """The share of the mouth region darker than the face's skin by a margin, 0..1 (0 when
    the region is off frame or unknown)."""
    h, w = grey.shape[:2]
    fx, fy, fw, fh = face
    if mouth is None:  # the lower third of the face box
        mouth = (fx + fw * 0.3, fy + fh * 0.62, fw * 0.4, fh * 0.12)
    mx, my, mw, mh = mouth
    gw, gh = mw * MOUTH_GROW[0], mh * MOUTH_GROW[1]
    x0, y0 = int(mx + mw / 2 - gw / 2), int(my - mh * 0.3)
    x1, y1 = int(x0 + gw + 1), int(y0 + gh + 1)
    sx0, sy0 = int(fx + fw * 0.2), int(fy + fh * 0.45)  # cheeks: below the eyes, above the mouth
    sx1, sy1 = int(fx + fw * 0.8), int(fy + fh * 0.6)
    if x0 < 0 or y0 < 0 or x1 > w or y1 > h or sx0 < 0 or sy0 < 0 or sx1 > w or sy1 > h:
        return 0.0
    region = grey[y0:y1, x0:x1]
    skin = grey[sy0:sy1, sx0:sx1]
    if region.size == 0 or skin.size == 0:
        return 0.0
    level = float(np.median(skin))
    return float(np.mean(region < level * 0.55))


def measure(
    path: Path,
    info: video.VideoInfo,
    size: tuple[int, int],
    tracks: Sequence[Track],
    tools: Tools,
    hook: Callable[[float], None],
) -> list[list[float]]:
    """Per track, the openness of its mouth at each of its frames (analysis frames at size;
    track boxes are in the video's pixels)."""
    out = [[0.0] * len(t.boxes) for t in tracks]
    if not tracks:
        return out
    sx, sy = size[0] / info.width, size[1] / info.height
    by_frame: dict[int, list[int]] = {}
    for i, t in enumerate(tracks):
        for f in range(t.start, t.end):
            by_frame.setdefault(f, []).append(i)
    last = max(by_frame)
    total = max(1, last)
    for f, frame in enumerate(video.frames(path, info, size, tools, count=last + 1)):
        mine = by_frame.get(f)
        if mine:
            grey: Frame = np.asarray(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), np.uint8)
            for i in mine:
                t = tracks[i]
                k = f - t.start
                face = _scale(t.boxes[k], sx, sy)
                mouth = t.mouths[k] if k < len(t.mouths) else None
                out[i][k] = round(
                    mouth_openness(grey, face, None if mouth is None else _scale(mouth, sx, sy)), 4
                )
        if f % 480 == 0:
            hook(min(1.0, f / total))
    return out


def _scale(box: Box, sx: float, sy: float) -> Box:
    x, y, w, h = box
    return (x * sx, y * sy, w * sx, h * sy)
