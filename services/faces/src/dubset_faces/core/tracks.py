"""Faces followed through a shot (pure): detections at sampled frames linked by IoU into
tracks, a box for every frame by interpolation, and a smoothed path for crops."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from dubset_faces.core.model import Box, Detection, Shot, Track

MIN_LINK_IOU = 0.3


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = min(ax + aw, bx + bw) - max(ax, bx)
    ih = min(ay + ah, by + bh) - max(ay, by)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


@dataclass
class _Chain:
    hits: list[tuple[int, Detection]]
    missed: int = 0


def link(
    samples: Sequence[tuple[int, Sequence[Detection]]],
    *,
    min_iou: float = MIN_LINK_IOU,
    max_missed: int = 1,
) -> list[list[tuple[int, Detection]]]:
    """Chains of (frame, detection), one per face: each sampled frame's detections joined to
    the open chains by best IoU (greedy, highest first); a chain stays open through
    max_missed samples without a match."""
    open_: list[_Chain] = []
    done: list[_Chain] = []
    for frame, dets in samples:
        pairs = sorted(
            (
                (iou(chain.hits[-1][1].box, det.box), c, d)
                for c, chain in enumerate(open_)
                for d, det in enumerate(dets)
            ),
            reverse=True,
        )
        used_c: set[int] = set()
        used_d: set[int] = set()
        for overlap, c, d in pairs:
            if overlap < min_iou or c in used_c or d in used_d:
                continue
            open_[c].hits.append((frame, dets[d]))
            open_[c].missed = 0
            used_c.add(c)
            used_d.add(d)
        still: list[_Chain] = []
        for c, chain in enumerate(open_):
            if c not in used_c:
                chain.missed += 1
            (done if chain.missed > max_missed else still).append(chain)
        open_ = still + [_Chain([(frame, det)]) for d, det in enumerate(dets) if d not in used_d]
    return [chain.hits for chain in done + open_]


def build_tracks(
    shot_index: int,
    shot: Shot,
    samples: Sequence[tuple[int, Sequence[Detection]]],
    *,
    min_hits: int = 2,
) -> list[Track]:
    """The shot's tracks, ordered by first frame then left edge. A chain needs min_hits
    detections (one when the shot had a single sample). A track covers its first to last
    detection, extended to the shot's edge when it was seen at the shot's first (last) sample,
    else half way to the sample before (after)."""
    inside = [(f, d) for f, d in samples if shot.start <= f < shot.end]
    if not inside:
        return []
    need = 1 if len(inside) == 1 else min_hits
    frames = [f for f, _ in inside]
    tracks = []
    for chain in link(inside):
        if len(chain) < need:
            continue
        first, last = chain[0][0], chain[-1][0]
        start = _edge(frames, first, shot.start, before=True)
        end = _edge(frames, last, shot.end, before=False)
        boxes = tuple(_interpolate(chain, f) for f in range(start, end))
        known = {f: det for f, det in chain}
        mouths = tuple(
            _mouth_at(known, f, box) for f, box in zip(range(start, end), boxes, strict=True)
        )
        score = sum(det.score for _, det in chain) / len(chain)
        tracks.append(Track(shot_index, start, boxes, len(chain), score, mouths))
    return sorted(tracks, key=lambda t: (t.start, t.boxes[0][0]))


def _edge(frames: Sequence[int], at: int, limit: int, *, before: bool) -> int:
    i = frames.index(at)
    if before:
        return limit if i == 0 else (frames[i - 1] + at + 1) // 2
    return limit if i == len(frames) - 1 else (at + frames[i + 1] + 1) // 2


def _interpolate(chain: Sequence[tuple[int, Detection]], frame: int) -> Box:
    if frame <= chain[0][0]:
        return chain[0][1].box
    for (fa, a), (fb, b) in pairwise(chain):
        if fa <= frame <= fb:
            w = (frame - fa) / (fb - fa)
            return tuple(x + (y - x) * w for x, y in zip(a.box, b.box, strict=True))  # type: ignore[return-value]
    return chain[-1][1].box


def _mouth_at(known: Mapping[int, Detection], frame: int, box: Box) -> Box | None:
    """The nearest detection's mouth box, placed on the frame's face box as it sat on its own."""
    det = known[min(known, key=lambda f: (abs(f - frame), f))]
    if det.mouth is None:
        return None
    bx, by, bw, bh = det.box
    mx, my, mw, mh = det.mouth
    x, y, w, h = box
    sx, sy = w / bw, h / bh
    return (x + (mx - bx) * sx, y + (my - by) * sy, mw * sx, mh * sy)


def smooth(values: Sequence[float], radius: int) -> list[float]:
    """A centred moving average (window 2*radius+1, shrunk at the ends)."""
    if radius <= 0 or len(values) < 3:
        return list(values)
    prefix = [0.0]
    for v in values:
        prefix.append(prefix[-1] + v)
    n = len(values)
    out = []
    for i in range(n):
        a, b = max(0, i - radius), min(n, i + radius + 1)
        out.append((prefix[b] - prefix[a]) / (b - a))
    return out
