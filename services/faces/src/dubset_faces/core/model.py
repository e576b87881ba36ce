"""Domain values of the faces stage. Boxes are (x, y, width, height) in the video's pixels;
frames are indices on the analysed (constant-rate) frame clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

Box = tuple[float, float, float, float]
Frame = npt.NDArray[np.uint8]  # height x width x 3, RGB


class FacesInputError(ValueError):
    """The video or params cannot be analysed: unreadable, no video stream, bad model dir."""


@dataclass(frozen=True)
class Detection:
    """One face found in one frame: its box, the detector's confidence, its mouth if known."""

    box: Box
    score: float
    mouth: Box | None = None


@dataclass(frozen=True)
class Shot:
    """Frames [start, end) between two cuts."""

    start: int
    end: int

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Track:
    """One face followed through one shot: a box for each frame of [start, end)."""

    shot: int
    start: int
    boxes: tuple[Box, ...]
    hits: int  # detections linked into it
    score: float  # their mean confidence
    mouths: tuple[Box | None, ...] = field(default=())  # per frame, offset like boxes

    @property
    def end(self) -> int:
        return self.start + len(self.boxes)

    def box(self, frame: int) -> Box | None:
        i = frame - self.start
        return self.boxes[i] if 0 <= i < len(self.boxes) else None


@dataclass(frozen=True)
class FaceClip:
    """An AniVid face clip: frames [start, end) of one track in one shot that passed the
    filters, with a square crop window per frame (x, y, side) in the video's pixels."""

    shot: int
    track: int
    start: int
    end: int
    crops: tuple[tuple[float, float, float], ...]
    motion: float


class ShotDetector(Protocol):
    """Feeds on every frame in order; says which frames start a new shot."""

    name: str

    def push(self, index: int, frame: Frame) -> Sequence[int]:
        """The cuts found so far (first frames of new shots), at most `lag` frames late."""
        ...

    def flush(self) -> Sequence[int]:
        """The cuts still held back, after the last frame."""
        ...

    @property
    def lag(self) -> int:
        """How many frames late a cut may be reported."""
        ...


class FaceDetector(Protocol):
    """Finds the anime faces in one frame."""

    name: str

    def detect(self, frame: Frame) -> Sequence[Detection]: ...
