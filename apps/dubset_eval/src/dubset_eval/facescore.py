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
    speaking: Rate = Rate(0, 0)  # clips with a visible speaker: the right face named
    offscreen: Rate = Rate(0, 0)  # clips without one: marked so

    @property
    def shot_f1(self) -> float | None:
        p, r = self.shot_precision.rate, self.shot_recall.rate
        if p is None or r is None:
            return None
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def iou(a: Box, b: Box) -> float:
    iw = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    ih = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _boxes_by_frame(
    tracks: Sequence[object], where: str, named: bool = False
) -> dict[int, list[tuple[int | str, Box]]]:
    """frame -> (track number, or its character when named, box) from tracks with
    start_frame and a box (or null) a frame."""
    out: dict[int, list[tuple[int | str, Box]]] = {}
    for n, value in enumerate(tracks):
        t = obj(value, f"{where}[{n}]")
        start = integer(t, "start_frame", where)
        key: int | str = str(t.get("character")) if named else n
        for i, box in enumerate(array(t, "boxes", where)):
            if box is None:
                continue
            if not (isinstance(box, list) and len(box) == 4):
                raise FieldError(f"{where}[{n}].boxes[{i}]: not [x, y, w, h]")
            out.setdefault(start + i, []).append((key, tuple(float(v) for v in box)))  # type: ignore[arg-type]
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
    picture: Mapping[str, object], boxes: Mapping[int, list[tuple[int | str, Box]]], faces: int,
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


def score_faces(
    picture: Mapping[str, object],
    doc: Mapping[str, object],
    lines: Sequence[tuple[str, int, int]] = (),
) -> FacesScore:
    """Shots (+-2 frames), face boxes (IoU >= 0.5, per frame), face-clip frames and, when
    faces.json says who speaks in each clip, that against the truth lines (speaker, JA span)."""
    if doc.get("format") != FACES_FORMAT:
        raise FieldError(f"format is not {FACES_FORMAT}")
    truth_cuts = _starts(array(picture, "shots", "picture"), "picture.shots")[1:]
    found_cuts = _starts(array(doc, "shots", "faces"), "faces.shots")[1:]
    shot_hits = _matches(truth_cuts, found_cuts, SHOT_TOLERANCE)
    truth_boxes = _boxes_by_frame(array(picture, "faces", "picture"), "picture.faces", True)
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
            cbox = array(track, "boxes", "faces.tracks")[f - t0]
            if f in eligible and isinstance(cbox, list) and iou(_box(cbox), eligible[f]) >= MIN_IOU:
                good += 1
                covered.add(f)
    speaking, offscreen = _speaking(doc, truth_boxes, lines, fps)
    return FacesScore(
        Rate(shot_hits, len(found_cuts)),
        Rate(shot_hits, len(truth_cuts)),
        Rate(tp, n_found),
        Rate(tp, n_truth),
        Rate(good, kept),
        Rate(len(covered), len(eligible)),
        len(clips),
        truth_clip_count,
        speaking,
        offscreen,
    )


def _speaking(
    doc: Mapping[str, object],
    truth_boxes: Mapping[int, list[tuple[int | str, Box]]],
    lines: Sequence[tuple[str, int, int]],
    fps: float,
) -> tuple[Rate, Rate]:
    """Per clip of faces.json's `speaking`: the truth's main speaker of its span, visible when
    on screen for half their speech there; right when the speaking track's box is that
    character's face (IoU 0.5, on most of the speech frames where both are on screen; a track
    lives in one shot of a clip that may span several), or when both say nobody speaks."""
    if "speaking" not in doc or not lines:
        return Rate(0, 0), Rate(0, 0)
    faces_of = _truth_characters(truth_boxes)
    tracks = array(doc, "tracks", "faces")
    hit = seen = none_hit = none_seen = 0
    for n, value in enumerate(array(doc, "speaking", "faces")):
        s = obj(value, f"faces.speaking[{n}]")
        a, b = (
            integer(s, "ja_start_ms", "faces.speaking"),
            integer(s, "ja_end_ms", "faces.speaking"),
        )
        spoken: dict[str, list[int]] = {}
        for who, start, end in lines:
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                spoken.setdefault(who, []).extend(
                    range(round(lo * fps / 1000), round(hi * fps / 1000))
                )
        if not spoken:
            continue
        who = max(sorted(spoken), key=lambda w: len(spoken[w]))
        frames = spoken[who]
        on_screen = [f for f in frames if who in faces_of.get(f, {})]
        track = s.get("speaking_track")
        if len(on_screen) * 2 < len(frames):
            none_seen += 1
            none_hit += track is None
            continue
        seen += 1
        if not isinstance(track, int) or not 0 <= track < len(tracks):
            continue
        t = obj(tracks[track], "faces.tracks")
        t0, boxes = integer(t, "start_frame", "faces.tracks"), array(t, "boxes", "faces.tracks")
        # A track lives in one shot: judged where it and the speaker are both on screen.
        both = [
            f for f in on_screen if 0 <= f - t0 < len(boxes) and isinstance(boxes[f - t0], list)
        ]
        votes = sum(iou(_box(boxes[f - t0]), faces_of[f][who]) >= MIN_IOU for f in both)  # type: ignore[arg-type]
        hit += bool(both) and votes * 2 >= len(both)
    return Rate(hit, seen), Rate(none_hit, none_seen)


def _truth_characters(
    truth_boxes: Mapping[int, list[tuple[int | str, Box]]],
) -> dict[int, dict[str, Box]]:
    """frame -> character -> box."""
    return {f: {str(who): box for who, box in boxes} for f, boxes in truth_boxes.items()}


def _box(value: list[object]) -> Box:
    x, y, w, h = (float(v) for v in value)  # type: ignore[arg-type]
    return (x, y, w, h)


def _fps(text: str) -> float:
    num, _, den = text.partition("/")
    try:
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        raise FieldError(f"video.fps: {text!r:.20} is not a rate") from None
