"""Shot boundaries by TransNetV2 (the AniVid paper's) from a model directory: a TorchScript
export of its PyTorch port beside a `dubset-model.json`:

    {"kind": "transnetv2", "file": "transnetv2.torchscript", "threshold": 0.5}

As TransNetV2 infers: frames at 48x27 RGB, windows of 100 frames moved 50 at a time (the first
frame repeated 25 times before the video, the last after it), the middle 50 predictions of
each window kept; the model's first output is a (1, 100, 1) logit per frame. A frame whose
probability passes the threshold is a transition frame; the frame after a run of them starts
a new shot. A directory that is not such a model is refused when the backend loads."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from dubset_common.errors import ConfigError
from dubset_faces.backends.modeldir import load_torchscript, read_meta
from dubset_faces.core.model import Frame

KIND = "transnetv2"
SIZE = (48, 27)
WINDOW, STEP, PAD = 100, 50, 25


class TransNetShots:
    def __init__(self, model_dir: Path) -> None:
        import torch

        meta, path = read_meta(Path(model_dir), KIND, "TransNetV2 shot detector")
        self._model = load_torchscript(path)
        self._torch = torch
        threshold = meta.get("threshold", 0.5)
        self.threshold = float(threshold) if isinstance(threshold, int | float) else 0.5
        self.name = f"transnetv2:{path.name}"
        probe = self._predict(np.zeros((WINDOW, SIZE[1], SIZE[0], 3), np.uint8))
        if probe.shape != (WINDOW,):
            raise ConfigError(f"{path}: not a TransNetV2 model (its output is not one per frame)")
        self._frames: list[Frame] = []  # padded, from window start `_base`
        self._base = -PAD  # the frame index of _frames[0]
        self._probs: list[float] = []  # per frame, from frame 0
        self._last_transition = False
        self._cuts_done = 0

    @property
    def lag(self) -> int:
        return WINDOW

    def push(self, index: int, frame: Frame) -> Sequence[int]:
        small = np.asarray(cv2.resize(frame, SIZE, interpolation=cv2.INTER_AREA), np.uint8)
        if index == 0:
            self._frames = [small] * PAD
        self._frames.append(small)
        while len(self._frames) >= WINDOW:
            self._window()
        return self._cuts()

    def flush(self) -> Sequence[int]:
        if not self._frames:
            return []
        total = self._base + len(self._frames)  # frames pushed
        while len(self._probs) < total:
            self._frames.extend([self._frames[-1]] * (WINDOW - len(self._frames)))
            self._window()
        del self._probs[total:]
        return self._cuts()

    def _window(self) -> None:
        probs = self._predict(np.stack(self._frames[:WINDOW]))
        self._probs.extend(float(p) for p in probs[PAD : PAD + STEP])
        self._frames = self._frames[STEP:]
        self._base += STEP

    def _predict(self, frames: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            out = self._model(torch.from_numpy(frames)[None])
        if isinstance(out, list | tuple):
            out = out[0]
        logits = np.asarray(out.detach().float().numpy(), np.float64).reshape(-1)
        if logits.shape != (frames.shape[0],):
            return np.zeros(0)
        return np.asarray(1 / (1 + np.exp(-logits)))

    def _cuts(self) -> list[int]:
        cuts = []
        for i in range(self._cuts_done, len(self._probs)):
            transition = self._probs[i] > self.threshold
            if self._last_transition and not transition and i > 0:
                cuts.append(i)
            self._last_transition = transition
        self._cuts_done = len(self._probs)
        return cuts
