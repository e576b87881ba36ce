"""The faces stage (faces.json) against the picture's truth (truth.json `picture`): shot
boundaries, face boxes per frame, and face clips against the paper's rules applied to the
truth (a shot moves unless the generator held it still; exactly one face on screen)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dubset_eval.fields import FieldError, array, integer, obj

Box = tuple[float, float, float, float]
SHOT_TOLERANCE = 2  # frames
MIN_IOU = 0.5
FACES_FORMAT = "dubset-faces/1"


@dataclass(frozen=True)
class Rate:
    hits: int
    total: int

    @property
    def rate(self) -> float | None:
        return None if self.total == 0 else self.hits / self.total


@dataclass(frozen=True)
class FacesScore:
    shot_precision: Rate
    shot_recall: Rate
    face_precision: Rate  # boxes per frame
    face_recall: Rate
    clip_precision: Rate  # face-clip frames
    clip_recall: Rate
    clips: int
    truth_clips: int

    @property
    def shot_f1(self) -> float | None:
        p, r = self.shot_precision.rate, self.shot_recall.rate
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)


def iou(a: Box, b: Box) -> float:
    iw = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    ih = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _boxes_by_frame(tracks: Sequence[object], where: str) -> dict[int, list[tuple[int, Box]]]:
    """frame -> (track number, box) from tracks with start_frame and a box (or null) a frame."""
    out: dict[int, list[tuple[int, Box]]] = {}
    for n, value in enumerate(tracks):
        t = obj(value, f"{where}[{n}]")
        start = integer(t, "start_frame", where)
        for i, box in enumerate(array(t, "boxes", where)):
            if box is None:
                continue
            if not (isinstance(box, list) and len(box) == 4):
                raise FieldError(f"{where}[{n}].boxes[{i}]: not [x, y, w, h]")
            out.setdefault(start + i, []).append((n, tuple(float(v) for v in box)))  # type: ignore[arg-type]
    return out


def _starts(shots: Sequence[object], where: str) -> list[int]:
    return [integer(obj(s, where), "start_frame", where) for s in shots]


def _matches(truth: Sequence[int], found: Sequence[int], tolerance: int) -> int:
    """One-to-one matches of boundaries within tolerance frames (greedy, in order)."""
    used: set[int] = set()
    hits = 0
    for t in truth:
        best = [f for f in found if abs(f - t) <= tolerance and f not in used]
        if best:
            used.add(min(best, key=lambda f: abs(f - t)))
            hits += 1
    return hits


def _eligible_truth(
    picture: Mapping[str, object], boxes: Mapping[int, list[tuple[int, Box]]], faces: int,
    min_frames: int,
) -> tuple[dict[int, Box], int]:  # fmt: skip
    """frame -> the lone face's box, for the frames a perfect AniVid pass keeps: in a shot
    that moves, `faces` faces on screen, in a run at least min_frames long; and the runs."""
    keep: dict[int, Box] = {}
    runs = 0
    for value in array(picture, "shots", "picture"):
        s = obj(value, "picture.shots")
        if s.get("motion") == "still":
            continue
        start = integer(s, "start_frame", "picture.shots")
        run: list[int] = []
        for f in range(start, start + integer(s, "frames", "picture.shots") + 1):
            here = boxes.get(f, [])
            ok = len(here) == faces and f < start + integer(s, "frames", "picture.shots")
            if ok and (not run or boxes[run[-1]][0][0] == here[0][0]):
                run.append(f)
                continue
            if len(run) >= min_frames:
                keep.update({g: boxes[g][0][1] for g in run})
                runs += 1
            run = [f] if ok else []
    return keep, runs


def score_faces(picture: Mapping[str, object], doc: Mapping[str, object]) -> FacesScore:
    """Shots (+-2 frames), face boxes (IoU >= 0.5, per frame) and face-clip frames."""
    if doc.get("format") != FACES_FORMAT:
        raise FieldError(f"format is not {FACES_FORMAT}")
    truth_cuts = _starts(array(picture, "shots", "picture"), "picture.shots")[1:]
    found_cuts = _starts(array(doc, "shots", "faces"), "faces.shots")[1:]
    shot_hits = _matches(truth_cuts, found_cuts, SHOT_TOLERANCE)
    truth_boxes = _boxes_by_frame(array(picture, "faces", "picture"), "picture.faces")
    found_boxes = _boxes_by_frame(array(doc, "tracks", "faces"), "faces.tracks")
    tp = 0
    for frame, found in found_boxes.items():
        truth = [b for _, b in truth_boxes.get(frame, [])]
        for _, box in found:
            best = max(range(len(truth)), key=lambda i: iou(box, truth[i]), default=None)
            if best is not None and iou(box, truth[best]) >= MIN_IOU:
                truth.pop(best)
                tp += 1
    n_truth = sum(len(v) for v in truth_boxes.values())
    n_found = sum(len(v) for v in found_boxes.values())
    analysis = obj(doc.get("analysis", {}), "faces.analysis")
    rules = obj(analysis.get("rules", {}), "faces.analysis.rules")
    fps = _fps(str(obj(doc.get("video", {}), "faces.video").get("fps", "24000/1001")))
    min_frames = round(float(rules.get("min_ms", 1000)) * fps / 1000)  # type: ignore[arg-type]
    faces = int(rules.get("faces_per_frame", 1))  # type: ignore[call-overload]
    eligible, truth_clip_count = _eligible_truth(picture, truth_boxes, faces, min_frames)
    kept, good = 0, 0
    covered: set[int] = set()
    clips = array(doc, "clips", "faces")
    tracks = array(doc, "tracks", "faces")
    for n, value in enumerate(clips):
        c = obj(value, f"faces.clips[{n}]")
        track = obj(tracks[integer(c, "track", "faces.clips")], "faces.tracks")
        t0 = integer(track, "start_frame", "faces.tracks")
        for f in range(
            integer(c, "start_frame", "faces.clips"), integer(c, "end_frame", "faces.clips")
        ):
            kept += 1
            box = array(track, "boxes", "faces.tracks")[f - t0]
            if f in eligible and box is not None and iou(tuple(box), eligible[f]) >= MIN_IOU:  # type: ignore[arg-type]
                good += 1
                covered.add(f)
    return FacesScore(
        Rate(shot_hits, len(found_cuts)),
        Rate(shot_hits, len(truth_cuts)),
        Rate(tp, n_found),
        Rate(tp, n_truth),
        Rate(good, kept),
        Rate(len(covered), len(eligible)),
        len(clips),
        truth_clip_count,
    )


def _fps(text: str) -> float:
    num, _, den = text.partition("/")
    try:
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        raise FieldError(f"video.fps: {text!r:.20} is not a rate") from None
