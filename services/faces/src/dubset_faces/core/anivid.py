"""AniVid's filters (pure): a shot's motion score by DVR-Scan's rule, then the face clips:
runs of frames with exactly one face, in shots that move, within the length bounds, each with
a smoothed square crop centred on the face."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dubset_faces.core.model import FaceClip, FacesInputError, Shot, Track
from dubset_faces.core.tracks import smooth


@dataclass(frozen=True)
class Rules:
    """The filters' parameters; the defaults are the paper's (motion 0.35, one face)."""

    faces_per_frame: int = 1
    min_motion: float = 0.35
    min_event_frames: int = 2  # DVR-Scan's minimum event length
    min_ms: int = 1000
    max_ms: int = 10_000
    crop_scale: float = 1.8  # crop side over face box side
    smooth_frames: int = 6  # crop path moving-average radius

    def check(self) -> None:
        if self.faces_per_frame < 1:
            raise FacesInputError("faces_per_frame must be at least 1")
        if not 0 <= self.min_motion <= 255:
            raise FacesInputError("min_motion must be 0..255 (DVR-Scan's score)")
        if not 1 <= self.min_event_frames <= 240:
            raise FacesInputError("min_event_frames must be 1..240")
        if not 0 < self.min_ms <= self.max_ms <= 600_000:
            raise FacesInputError("need 0 < min_ms <= max_ms <= 600000")
        if not 1.0 <= self.crop_scale <= 6.0:
            raise FacesInputError("crop_scale must be 1..6")
        if not 0 <= self.smooth_frames <= 120:
            raise FacesInputError("smooth_frames must be 0..120")


def shot_motion(scores: Sequence[float], min_event_frames: int) -> float:
    """A shot's motion score: the highest level held for min_event_frames consecutive frames
    (DVR-Scan starts an event when that many frames reach its threshold). The first frame is
    left out: the background model has only just seen the shot."""
    tail = list(scores[1:])
    if len(tail) < min_event_frames:
        return 0.0
    return max(min(tail[i : i + min_event_frames]) for i in range(len(tail) - min_event_frames + 1))


def face_clips(
    shots: Sequence[Shot],
    tracks: Sequence[Track],
    motion: Sequence[float],
    fps: float,
    frame_size: tuple[int, int],
    rules: Rules,
) -> list[FaceClip]:
    """The AniVid face clips, in frame order. tracks are indexed by their position."""
    clips: list[FaceClip] = []
    min_frames = max(1, round(rules.min_ms * fps / 1000))
    max_frames = max(min_frames, round(rules.max_ms * fps / 1000))
    for s, shot in enumerate(shots):
        if motion[s] < rules.min_motion:
            continue
        mine = [(i, t) for i, t in enumerate(tracks) if t.shot == s]
        for start, end, index in _single_face_runs(shot, mine, rules.faces_per_frame):
            for a in range(start, end, max_frames):
                b = min(end, a + max_frames)
                if b - a < min_frames:
                    continue
                crops = crop_path(tracks[index], a, b, frame_size, rules)
                clips.append(FaceClip(s, index, a, b, crops, motion[s]))
    return clips


def _single_face_runs(
    shot: Shot, tracks: Sequence[tuple[int, Track]], faces: int
) -> list[tuple[int, int, int]]:
    """(start, end, track index) of the runs where exactly `faces` faces show and the first
    of them (leftmost at the run's start) stays the same track."""
    runs: list[tuple[int, int, int]] = []
    current: tuple[int, int] | None = None  # (start, track)
    for f in range(shot.start, shot.end + 1):
        present = [i for i, t in tracks if t.box(f) is not None] if f < shot.end else []
        who = present[0] if len(present) == faces else None
        if current is not None and who != current[1]:
            runs.append((current[0], f, current[1]))
            current = None
        if current is None and who is not None:
            current = (f, who)
    return runs


def crop_path(
    track: Track, start: int, end: int, frame_size: tuple[int, int], rules: Rules
) -> tuple[tuple[float, float, float], ...]:
    """A square (x, y, side) per frame: centred on the smoothed face, side crop_scale times
    the smoothed face size, inside the frame (shrunk when the frame is smaller)."""
    boxes = [track.boxes[f - track.start] for f in range(start, end)]
    cx = smooth([x + w / 2 for x, _, w, _ in boxes], rules.smooth_frames)
    cy = smooth([y + h / 2 for _, y, _, h in boxes], rules.smooth_frames)
    side = smooth([max(w, h) * rules.crop_scale for _, _, w, h in boxes], rules.smooth_frames)
    width, height = frame_size
    out = []
    for x, y, wanted in zip(cx, cy, side, strict=True):
        s = min(wanted, float(width), float(height))
        left = min(max(0.0, x - s / 2), width - s)
        top = min(max(0.0, y - s / 2), height - s)
        out.append((round(left, 2), round(top, 2), round(s, 2)))
    return tuple(out)
