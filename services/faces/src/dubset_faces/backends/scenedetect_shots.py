"""Shot boundaries by PySceneDetect (the embedded backend): its content or adaptive detector
fed the frames the stage already decodes."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from scenedetect import FrameTimecode
from scenedetect.detectors import AdaptiveDetector, ContentDetector

from dubset_faces.core.model import FacesInputError, Frame

DETECTORS = ("content", "adaptive")
# Anime pans "on twos and threes" (the picture moves every 2nd or 3rd frame) make periodic
# content spikes of 15-18 that the adaptive ratio alone takes for cuts; the library's floor
# (15) sits among them.
MIN_CONTENT_VAL = 20.0


class SceneDetectShots:
    """`content`: a cut where the HSV change between frames reaches threshold (default 27);
    `adaptive`: where it stands out from its neighbours (default 3.0)."""

    def __init__(self, kind: str, fps: Fraction, threshold: float = 0.0, min_frames: int = 15):
        if kind not in DETECTORS:
            raise FacesInputError(f"shot detector must be one of {', '.join(DETECTORS)}")
        self.name = f"scenedetect-{kind}"
        self._fps = fps
        if kind == "content":
            self._det: ContentDetector = ContentDetector(
                threshold=threshold or 27.0, min_scene_len=min_frames
            )
        else:
            self._det = AdaptiveDetector(
                adaptive_threshold=threshold or 3.0,
                min_scene_len=min_frames,
                min_content_val=MIN_CONTENT_VAL,
            )
        self._lag = min_frames + 8

    @property
    def lag(self) -> int:
        return self._lag

    def push(self, index: int, frame: Frame) -> Sequence[int]:
        # PySceneDetect works on BGR frames (OpenCV's order).
        cuts = self._det.process_frame(self._tc(index), frame[:, :, ::-1])
        return [int(c.frame_num) for c in cuts if int(c.frame_num) > 0]

    def flush(self) -> Sequence[int]:
        post = getattr(self._det, "post_process", None)
        if post is None:
            return []
        return [int(c.frame_num) for c in post(self._tc(0)) or [] if int(c.frame_num) > 0]

    def _tc(self, index: int) -> FrameTimecode:
        return FrameTimecode(index, fps=float(self._fps))
