"""Per-clip quality in the export (pure): a quality fragment read and checked against its
episode fragment, its signals joined into the manifest lines of the pair's files, and the
filter of `dubset export --min-quality ...` applied to an episode fragment."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from dubset_common.clipquality import SCORE, SIGNALS, Thresholds, reasons
from dubset_packaging.core.export import ExportError, Fragment

Signals = dict[str, float | None]  # a pair's signals and score
Scored = dict[str, Signals]  # JA clip id -> its pair's signals
QUALITY_FIELD = "quality"  # the manifest line's field that holds the pair's signals
NOT_SCORED = "not scored: the episode has no current quality fragment (run the quality stage)"


def parse_quality(value: Mapping[str, object], where: str, fragment: Fragment) -> Scored:
    """JA clip id -> its pair's signals and score, for every pair of the fragment."""
    clips = value.get("clips")
    if not isinstance(clips, dict):
        raise ExportError(f"{where}.clips must be a JSON object")
    pairs = {str(c["jp_clip"]): str(c["en_clip"]) for c in fragment.clips}
    if set(clips) != set(pairs):
        raise ExportError(f"{where} does not score exactly the episode's clip pairs")
    out: Scored = {}
    for jp, item in clips.items():
        at = f"{where}.clips[{jp}]"
        if not isinstance(item, dict) or item.get("en_clip") != pairs[jp]:
            raise ExportError(f"{at} must be an object naming the pair's en_clip")
        out[jp] = {name: _number(item.get(name), f"{at}.{name}") for name in (*SIGNALS, SCORE)}
        score = out[jp][SCORE]
        if score is None or not 0.0 <= score <= 1.0:
            raise ExportError(f"{at}.score must be a number in 0..1")
    return out


def _number(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ExportError(f"{where} must be a finite number or null")
    return float(value)


def with_quality(
    files: Sequence[Mapping[str, object]],
    fragment: Fragment,
    quality: Mapping[str, Mapping[str, float | None]],
) -> list[dict[str, object]]:
    """The files with their pair's signals under QUALITY_FIELD (both clips of a pair, and
    whatever else names one of them)."""
    by_clip: dict[str, Mapping[str, float | None]] = {}
    for c in fragment.clips:
        q = quality.get(str(c["jp_clip"]))
        if q is not None:
            by_clip[str(c["jp_clip"])] = by_clip[str(c["en_clip"])] = q
    out = []
    for f in files:
        q = by_clip.get(str(f.get("clip")))
        out.append(dict(f) if q is None else {**f, QUALITY_FIELD: dict(q)})
    return out


@dataclass(frozen=True)
class Dropped:
    """A clip pair left out of a filtered export, and why."""

    episode_id: str
    jp_clip: str
    en_clip: str
    reasons: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {"episode_id": self.episode_id, "jp_clip": self.jp_clip,
                "en_clip": self.en_clip, "reasons": list(self.reasons)}  # fmt: skip


def apply_filter(
    fragment: Fragment,
    quality: Mapping[str, Mapping[str, float | None]] | None,
    thresholds: Thresholds,
) -> tuple[Fragment, list[Dropped]]:
    """The fragment with only the pairs that pass, and files of only those pairs; a pair of an
    episode without quality fails (it cannot show it passes)."""
    kept, dropped = [], []
    for c in fragment.clips:
        jp, en = str(c["jp_clip"]), str(c["en_clip"])
        q = None if quality is None else quality.get(jp)
        why = [NOT_SCORED] if q is None else reasons(q, thresholds)
        if why:
            dropped.append(Dropped(fragment.episode_id, jp, en, tuple(why)))
        else:
            kept.append(c)
    gone = {d.jp_clip for d in dropped} | {d.en_clip for d in dropped}
    files = tuple(f for f in fragment.files if str(f.get("clip")) not in gone)
    episode = {**fragment.episode, "clips": kept}
    return replace(fragment, episode=episode, files=files), dropped


def check_quality_field(value: object) -> None:
    """A manifest line's quality field, when it has one: the signals (numbers or null) and a
    score in 0..1."""
    if value is None:
        return
    if not isinstance(value, dict) or set(value) != {*SIGNALS, SCORE}:
        raise ExportError(f"quality must hold exactly {', '.join((*SIGNALS, SCORE))}")
    for name, item in value.items():
        _number(item, f"quality.{name}")
    score = value[SCORE]
    if not isinstance(score, int | float) or isinstance(score, bool) or not 0 <= score <= 1:
        raise ExportError("quality.score must be a number in 0..1")
