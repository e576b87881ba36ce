"""Motion scores by DVR-Scan's method (the paper's tool): an OpenCV MOG2 background model
(history 500, variance threshold 16, shadows dropped) on the grey frame, the mask opened by a
3x3 kernel (DVR-Scan's size for frames under 1280 px; analysis frames are at most that after
its downscale rule), the frame's score the mask's mean on 0..255. One model per shot."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import cv2
import numpy as np

from dubset_faces.core.model import Frame

HISTORY = 500
VARIANCE_THRESHOLD = 16.0


class MotionScorer:
    def __init__(self, kernel_size: int = 3) -> None:
        self._model = cv2.createBackgroundSubtractorMOG2(
            history=HISTORY, varThreshold=VARIANCE_THRESHOLD, detectShadows=False
        )
        self._model.setShadowValue(0)
        self._kernel = np.ones((kernel_size, kernel_size), np.uint8) if kernel_size > 1 else None

    def score(self, grey: Frame) -> float:
        mask = self._model.apply(grey, learningRate=-1)
        if self._kernel is not None:
            mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
        return float(np.mean(mask))


class ShotMotion:
    """Frame scores with a fresh model per shot, while cuts are reported up to `lag` frames
    late: frames wait in a queue of `lag` before they are scored."""

    def __init__(self, lag: int) -> None:
        self._lag = lag
        self._queue: deque[tuple[int, Frame]] = deque()
        self._cuts: list[int] = []
        self._model = MotionScorer()
        self.scores: list[float] = []

    def push(self, index: int, frame: Frame, cuts: Sequence[int]) -> None:
        self._cuts.extend(c for c in cuts if c > len(self.scores))
        self._cuts.sort()
        grey: Frame = np.asarray(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), np.uint8)
        self._queue.append((index, grey))
        while len(self._queue) > self._lag:
            self._score(*self._queue.popleft())

    def finish(self, cuts: Sequence[int]) -> list[float]:
        self._cuts.extend(c for c in cuts if c > len(self.scores))
        self._cuts.sort()
        while self._queue:
            self._score(*self._queue.popleft())
        return self.scores

    def _score(self, index: int, grey: Frame) -> None:
        if self._cuts and index >= self._cuts[0]:
            while self._cuts and index >= self._cuts[0]:
                self._cuts.pop(0)
            self._model = MotionScorer()
        self.scores.append(self._model.score(grey))
