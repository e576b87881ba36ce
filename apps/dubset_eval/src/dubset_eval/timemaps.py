"""A result's time map against the truth's: the EN time each gives a JA moment, every 100 ms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from dubset_common.timemap import TimeMap, TimeMapError
from dubset_eval.errors import EvalInputError

STEP_MS = 100


@dataclass(frozen=True)
class MapScore:
    p50_ms: float | None  # error where both maps hold; None: they share no moment
    p95_ms: float | None
    coverage: float  # of the JA moments the truth maps, the share the result maps too
    pieces: int  # the result's


def truth_map(
    value: Mapping[str, object], ja_offset_ms: int, durations: Mapping[str, int]
) -> TimeMap | None:
    """truth.json's time_map, else (a plain release) its constant offset; None for a truth of
    one language (nothing to map)."""
    raw = value.get("time_map")
    try:
        if raw is not None:
            return TimeMap.from_json(raw, "truth time_map")
        if durations.get("ja", 0) <= 0 or durations.get("en", 0) <= 0:
            return None
        return TimeMap.constant(ja_offset_ms, durations["ja"], durations["en"])
    except TimeMapError as exc:
        raise EvalInputError(f"truth: {exc}") from None


def result_map(value: Mapping[str, object], ja_offset_ms: int, truth: TimeMap) -> TimeMap:
    """A media.json's time_map, else its offset over the truth's span."""
    raw = value.get("time_map")
    try:
        if raw is not None:
            return TimeMap.from_json(raw, "result time_map")
        ja = max(p.ja_end_ms for p in truth.pieces)
        en = max(p.en_end_ms for p in truth.pieces)
        return TimeMap.constant(ja_offset_ms, ja, en)
    except TimeMapError as exc:
        raise EvalInputError(f"result: {exc}") from None


def score_map(result: TimeMap, truth: TimeMap) -> MapScore:
    end = max(p.ja_end_ms for p in truth.pieces)
    errors, mapped = [], 0
    for t in range(0, end, STEP_MS):
        want = truth.to_en(t)
        if want is None:
            continue
        mapped += 1
        got = result.to_en(t)
        if got is not None:
            errors.append(abs(got - want))
    p50 = float(np.percentile(errors, 50)) if errors else None
    p95 = float(np.percentile(errors, 95)) if errors else None
    return MapScore(p50, p95, len(errors) / mapped if mapped else 0.0, len(result.pieces))
