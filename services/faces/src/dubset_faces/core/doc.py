"""faces.json (pure): the video's shots with their motion, every face track with a box per
frame, and the AniVid face clips with their crop windows and files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from dubset_faces.core.model import Box, FaceClip, Shot, Track

FORMAT = "dubset-faces/1"


def clip_id(clip: FaceClip) -> str:
    """A face clip's id within its episode: shot, track, first frame."""
    return f"s{clip.shot:04d}-t{clip.track:04d}-f{clip.start:06d}"


def ms(frame: int, fps: Fraction) -> int:
    """The time of a frame on the analysis clock, in ms (rounded down)."""
    return int(frame * 1000 / fps)


def faces_doc(
    *,
    video: Mapping[str, object],
    fps: Fraction,
    shots: Sequence[Shot],
    motion: Sequence[float],
    tracks: Sequence[Track],
    clips: Sequence[FaceClip],
    files: Mapping[str, Mapping[str, str]],
    analysis: Mapping[str, object],
) -> dict[str, object]:
    """The faces.json value. files: per clip id, its file names by kind ("crop", "full")."""
    return {
        "format": FORMAT,
        "video": {**video, "fps": f"{fps.numerator}/{fps.denominator}"},
        "analysis": dict(analysis),
        "shots": [
            {
                "index": i,
                "start_frame": s.start,
                "end_frame": s.end,
                "start_ms": ms(s.start, fps),
                "end_ms": ms(s.end, fps),
                "motion": motion[i],
                "faces": sum(1 for t in tracks if t.shot == i),
            }
            for i, s in enumerate(shots)
        ],
        "tracks": [
            {
                "id": i,
                "shot": t.shot,
                "start_frame": t.start,
                "end_frame": t.end,
                "hits": t.hits,
                "score": round(t.score, 4),
                "boxes": [_box(b) for b in t.boxes],
                "mouths": [None if m is None else _box(m) for m in t.mouths],
            }
            for i, t in enumerate(tracks)
        ],
        "clips": [
            {
                "id": clip_id(c),
                "shot": c.shot,
                "track": c.track,
                "start_frame": c.start,
                "end_frame": c.end,
                "start_ms": ms(c.start, fps),
                "end_ms": ms(c.end, fps),
                "motion": c.motion,
                "crop": [list(w) for w in c.crops],
                "files": dict(files.get(clip_id(c), {})),
            }
            for c in clips
        ],
    }


def _box(box: Box) -> list[float]:
    return [round(v, 1) for v in box]
