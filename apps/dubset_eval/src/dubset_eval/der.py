"""Diarization error rate: collar around reference boundaries, overlap scored, optimal mapping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

DEFAULT_COLLAR_MS = 250
DEFAULT_FRAME_MS = 10


@dataclass(frozen=True)
class Turn:
    """One speaker talking over [start_ms, end_ms)."""

    speaker: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class DerScore:
    """Scored times in ms; reference speech counts once per speaker talking (overlap scored)."""

    reference_ms: int
    miss_ms: int
    false_alarm_ms: int
    confusion_ms: int
    ref_speakers: int
    hyp_speakers: int
    mapping: tuple[tuple[str, str], ...]
    collar_ms: int
    frame_ms: int

    @property
    def der(self) -> float | None:
        """(miss + false alarm + confusion) / reference speech; None without reference speech."""
        total = self.miss_ms + self.false_alarm_ms + self.confusion_ms
        return total / self.reference_ms if self.reference_ms else None

    @property
    def speaker_count_error(self) -> int:
        return self.hyp_speakers - self.ref_speakers


def _frame(ms: int, frame_ms: int) -> int:
    """The frame boundary nearest to a time (frame t spans [t*frame_ms, (t+1)*frame_ms))."""
    return (ms + frame_ms // 2) // frame_ms


def _activity(
    turns: Sequence[Turn], n_frames: int, frame_ms: int
) -> tuple[list[str], NDArray[np.bool_]]:
    speakers = sorted({t.speaker for t in turns if t.end_ms > t.start_ms})
    row = {s: i for i, s in enumerate(speakers)}
    active = np.zeros((len(speakers), n_frames), dtype=np.bool_)
    for t in turns:
        if t.end_ms > t.start_ms:
            active[row[t.speaker], _frame(t.start_ms, frame_ms) : _frame(t.end_ms, frame_ms)] = True
    return speakers, active


def diarization_error(
    reference: Sequence[Turn],
    hypothesis: Sequence[Turn],
    *,
    collar_ms: int = DEFAULT_COLLAR_MS,
    frame_ms: int = DEFAULT_FRAME_MS,
    duration_ms: int = 0,
) -> DerScore:
    """md-eval style DER on frames of frame_ms.

    Frames within collar_ms of any reference turn start or end are not scored. Reference and
    hypothesis speakers are mapped one-to-one to maximise their co-active scored time
    (Hungarian). Per scored frame: miss = max(0, Nref - Nhyp), false alarm =
    max(0, Nhyp - Nref), confusion = min(Nref, Nhyp) - Ncorrect, where Ncorrect counts mapped
    pairs talking together; their sum is max(Nref, Nhyp) - Ncorrect.
    """
    if collar_ms < 0 or frame_ms <= 0:
        raise ValueError("collar_ms must be >= 0 and frame_ms > 0")
    end_ms = max([duration_ms, *(t.end_ms for t in reference), *(t.end_ms for t in hypothesis)])
    n_frames = _frame(end_ms, frame_ms) + 1
    ref_names, ref = _activity(reference, n_frames, frame_ms)
    hyp_names, hyp = _activity(hypothesis, n_frames, frame_ms)

    scored = np.ones(n_frames, dtype=np.bool_)
    for t in reference:
        if t.end_ms > t.start_ms:
            for b in (t.start_ms, t.end_ms):
                lo = max(0, _frame(b - collar_ms, frame_ms))
                scored[lo : _frame(b + collar_ms, frame_ms)] = False
    ref_s = ref[:, scored].astype(np.int64)
    hyp_s = hyp[:, scored].astype(np.int64)

    n_ref = ref_s.sum(axis=0)
    n_hyp = hyp_s.sum(axis=0)
    n_correct = np.zeros_like(n_ref)
    mapping: list[tuple[str, str]] = []
    if ref_names and hyp_names:
        overlap = ref_s @ hyp_s.T
        rows, cols = linear_sum_assignment(overlap, maximize=True)
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            if overlap[i, j] > 0:
                n_correct += ref_s[i] * hyp_s[j]
                mapping.append((hyp_names[j], ref_names[i]))

    return DerScore(
        reference_ms=int(n_ref.sum()) * frame_ms,
        miss_ms=int(np.maximum(n_ref - n_hyp, 0).sum()) * frame_ms,
        false_alarm_ms=int(np.maximum(n_hyp - n_ref, 0).sum()) * frame_ms,
        confusion_ms=int((np.minimum(n_ref, n_hyp) - n_correct).sum()) * frame_ms,
        ref_speakers=len(ref_names),
        hyp_speakers=len(hyp_names),
        mapping=tuple(sorted(mapping)),
        collar_ms=collar_ms,
        frame_ms=frame_ms,
    )
