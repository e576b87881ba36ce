"""One decoding pass over the video: shots, motion scores, faces at every `stride`-th frame
(in a pool of processes), then tracks and the AniVid face clips (core)."""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np

from dubset_common.ffmpeg import Tools
from dubset_faces import video
from dubset_faces.core.anivid import Rules, face_clips, shot_motion
from dubset_faces.core.model import (
    Box,
    Detection,
    FaceClip,
    FaceDetector,
    FacesInputError,
    Frame,
    Shot,
    ShotDetector,
    Track,
)
from dubset_faces.core.tracks import build_tracks
from dubset_faces.detectors import DetectorSpec, load_face_detector, load_shot_detector
from dubset_faces.motion import ShotMotion

Hook = Callable[[float, str], None]


@dataclass(frozen=True)
class Analysis:
    info: video.VideoInfo
    size: tuple[int, int]  # analysis frame size
    shots: tuple[Shot, ...]
    motion: tuple[float, ...]  # per shot
    tracks: tuple[Track, ...]  # in the video's pixels
    clips: tuple[FaceClip, ...]
    samples: int  # frames sampled for faces
    detected: int  # of them, those the detector ran on (the others held the picture before)
    shot_backend: str
    face_backend: str


@dataclass(frozen=True)
class AnalysisParams:
    stride: int = 12  # detect faces on every stride-th frame
    max_width: int = 640  # analysis frames are at most this wide
    min_hits: int = 2
    workers: int = 2  # face detection processes (1: in this process)
    shots: DetectorSpec = field(default_factory=lambda: DetectorSpec("adaptive"))
    faces: DetectorSpec = field(default_factory=lambda: DetectorSpec("animeface"))
    rules: Rules = field(default_factory=Rules)


def analyze(path: Path, tools: Tools, params: AnalysisParams, hook: Hook) -> Analysis:
    info = video.probe(path, tools)
    size = video.analysis_size(info, params.max_width)
    shot_det = load_shot_detector(params.shots, info.fps)
    faces = _Faces(params.faces, params.workers)
    shots_motion = _ShotsAndMotion(shot_det, ShotMotion(shot_det.lag))
    total = max(1, info.frames)
    count = 0
    try:
        half = (max(2, size[0] // 2), max(2, size[1] // 2))
        held: tuple[int, Frame] | None = None  # the last frame the detector saw (half size)
        for i, frame in enumerate(video.frames(path, info, size, tools)):
            # Shots and motion on a half-size frame (DVR-Scan's downscale option): the same
            # cuts and scores for a quarter of the pixels.
            small = np.asarray(cv2.resize(frame, half, interpolation=cv2.INTER_AREA), np.uint8)
            shots_motion.push(i, small)
            if i % params.stride == 0:
                if held is not None and _same_picture(small, held[1]):
                    faces.reuse(i, held[0])  # a held picture: its faces as last detected
                else:
                    faces.submit(i, frame)
                    held = (i, small)
            count = i + 1
            if i % 240 == 0:
                hook(0.9 * min(1.0, i / total), f"frame {i}/{total}")
        cuts, scores = shots_motion.finish()
        samples = faces.results()
    finally:
        shots_motion.close()
        faces.close()
    if count < total * 0.9 - 24:
        raise FacesInputError(
            f"the video ends after {count} of its {total} frames (truncated or damaged)"
        )
    shots = _shots(cuts, count)
    hook(0.92, f"{len(shots)} shots; tracking faces")
    scale = info.width / size[0], info.height / size[1]
    scaled = [(f, [_scaled(d, scale) for d in dets]) for f, dets in sorted(samples)]
    tracks: list[Track] = []
    for s, shot in enumerate(shots):
        tracks += build_tracks(s, shot, scaled, min_hits=params.min_hits)
    shot_scores = tuple(
        round(shot_motion(scores[sh.start : sh.end], params.rules.min_event_frames), 4)
        for sh in shots
    )
    clips = face_clips(
        shots, tracks, shot_scores, float(info.fps), (info.width, info.height), params.rules
    )
    return Analysis(info, size, shots, shot_scores, tuple(tracks), tuple(clips), len(samples),
                    faces.detected, shot_det.name, faces.name)  # fmt: skip


class _ShotsAndMotion:
    """Shot detection and motion scores on a thread of their own, fed frames in order through
    a bounded queue, so they run beside the decoding and the face sampling (OpenCV releases
    the GIL). In order and on one thread: the cuts and scores are those of running inline."""

    QUEUE = 64  # frames in flight (half-size analysis frames: ~15 MB at 320x180)

    def __init__(self, shots: ShotDetector, motion: ShotMotion) -> None:
        self._shots, self._motion = shots, motion
        self._queue: queue.Queue[tuple[int, Frame] | None] = queue.Queue(self.QUEUE)
        self._cuts: list[int] = []
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="faces-shots", daemon=True)
        self._thread.start()

    def push(self, index: int, frame: Frame) -> None:
        while not self._put((index, frame)):
            self._raise()  # the queue stays full only if the thread failed

    def finish(self) -> tuple[list[int], list[float]]:
        """Every frame pushed: the cuts and each frame's motion score."""
        while not self._put(None):
            self._raise()
        self._thread.join()
        self._raise()
        last = self._shots.flush()
        return self._cuts + list(last), self._motion.finish(last)

    def close(self) -> None:
        """Stop the thread (after finish, or when the decoding failed part way)."""
        self._stop.set()
        self._thread.join()

    def _put(self, item: tuple[int, Frame] | None) -> bool:
        try:
            self._queue.put(item, timeout=0.5)
        except queue.Full:
            return False
        return True

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    item = self._queue.get(timeout=0.5)
                except queue.Empty:
                    continue
                if item is None:
                    return
                found = self._shots.push(*item)
                self._cuts += found
                self._motion.push(item[0], item[1], found)
        except BaseException as exc:
            self._error = exc


HELD_DIFF = 1.0  # mean |difference| (grey levels) under which a picture is held


def _same_picture(a: Frame, b: Frame) -> bool:
    """Whether two frames show the same picture (a held cel, a still shot; mouths may flap):
    the detector would find the same faces, so it is not run again."""
    diff = cv2.absdiff(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY))
    return float(np.mean(diff)) < HELD_DIFF


def _shots(cuts: Sequence[int], frames: int) -> tuple[Shot, ...]:
    bounds = [0, *sorted({c for c in cuts if 0 < c < frames}), frames]
    return tuple(Shot(a, b) for a, b in pairwise(bounds) if b > a)


def _scaled(det: Detection, scale: tuple[float, float]) -> Detection:
    def box(b: Box) -> Box:
        x, y, w, h = b
        sx, sy = scale
        return (round(x * sx, 2), round(y * sy, 2), round(w * sx, 2), round(h * sy, 2))

    return Detection(box(det.box), det.score, None if det.mouth is None else box(det.mouth))


_WORKER: FaceDetector | None = None


def _init_worker(spec: DetectorSpec) -> None:
    global _WORKER
    _WORKER = load_face_detector(spec)


def _detect(frame: Frame) -> list[Detection]:
    assert _WORKER is not None
    return list(_WORKER.detect(frame))


class _Faces:
    """Face detection on sampled frames, in worker processes, a bounded number in flight."""

    def __init__(self, spec: DetectorSpec, workers: int) -> None:
        self._pool: Executor | None = None
        self._local: FaceDetector | None = None
        if workers <= 1:
            self._local = load_face_detector(spec)
            self.name = self._local.name
        else:
            probe = load_face_detector(spec)  # fail here, not in a worker, when it cannot load
            self.name = probe.name
            ctx = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(
                workers, mp_context=ctx, initializer=_init_worker, initargs=(spec,)
            )
        self._pending: deque[tuple[int, Future[list[Detection]]]] = deque()
        self._done: list[tuple[int, list[Detection]]] = []
        self._reused: list[tuple[int, int]] = []  # (frame, the frame whose faces it reuses)
        self.detected = 0
        self._limit = 4 * max(1, workers)

    def reuse(self, index: int, source: int) -> None:
        self._reused.append((index, source))

    def submit(self, index: int, frame: Frame) -> None:
        self.detected += 1
        if self._local is not None:
            self._done.append((index, list(self._local.detect(frame))))
            return
        assert self._pool is not None
        self._pending.append((index, self._pool.submit(_detect, frame)))
        while len(self._pending) > self._limit:
            i, fut = self._pending.popleft()
            self._done.append((i, fut.result()))

    def results(self) -> list[tuple[int, list[Detection]]]:
        while self._pending:
            i, fut = self._pending.popleft()
            self._done.append((i, fut.result()))
        found = dict(self._done)
        return sorted(self._done + [(i, found[src]) for i, src in self._reused], key=lambda x: x[0])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
