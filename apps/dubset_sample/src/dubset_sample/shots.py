"""Shot planning (pure): a picture's shots from the line timings, 2-8 s each, cut in pauses."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from dubset_sample.art import BACKGROUNDS

MIN_SHOT_MS = 2000
MAX_SHOT_MS = 8000
# static: the camera holds after a slide-in and the speaker bobs; still: nothing moves but
# mouths (the shots AniVid's motion filter exists to drop).
MOTIONS: tuple[str, ...] = ("pan_left", "pan_right", "zoom_in", "static", "still")
TITLE = "title"
_MOTION_WEIGHTS = (0.28, 0.28, 0.1, 0.2, 0.14)
_SCENE_BREAK_PAUSE_MS = 1500  # a pause this long may change the background
_LISTENER_CHANCE = 0.35  # a lone speaker gets the previous speaker as listener
_EMPTY_SHOT_IDLE_CHANCE = 0.6  # a shot without speech shows a character idle
_OFFSCREEN_CHANCE = 0.1  # a shot with one speaker shows only the listener (voice off screen)
_FLAP_OPEN_MS = (90, 210)  # one mouth-open flap
_FLAP_SHUT_MS = (60, 170)  # the mouth shut between flaps


@dataclass(frozen=True)
class Shot:
    """One shot of the picture: a time span, a background, who is on screen, a camera move."""

    start_ms: int
    end_ms: int
    background: str
    characters: tuple[str, ...]  # character ids on screen, at most 2, main speaker first
    motion: str  # one of MOTIONS, or TITLE
    # per character on screen who speaks in the shot: mouth-open spans, ms from the shot start
    mouths: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = ()
    flip: bool = False  # the reverse angle: characters on the other sides


Speech = Sequence[tuple[str, int, int]]


def plan_shots(
    speech: Speech,
    duration_ms: int,
    character_ids: Sequence[str],
    seed: int,
    *,
    backgrounds: Sequence[str] = BACKGROUNDS,
) -> tuple[Shot, ...]:
    """Shots tiling [0, duration_ms): 2-8 s each, cut in pauses, speakers on screen."""
    if duration_ms <= 0:
        return ()
    rng = random.Random(f"plan:{seed}")
    pauses = _pauses(speech, duration_ms)
    bounds = _cut_bounds(duration_ms, pauses, speech, rng)
    spans = list(pairwise(bounds))
    casts = _casts(spans, speech, character_ids, rng)
    scenes = _scene_backgrounds(spans, pauses, backgrounds, rng)
    flips = _reverse_angles(casts, scenes)
    motions = _motions(len(spans), rng)
    flaps = flap_spans(speech, seed)
    return tuple(
        Shot(a, b, bg, cast, motion, _shot_mouths(a, b, cast, flaps), flip)
        for (a, b), cast, bg, motion, flip in zip(spans, casts, scenes, motions, flips, strict=True)
    )


def flap_spans(speech: Speech, seed: int) -> dict[str, list[tuple[int, int]]]:
    """Per character, the spans (episode ms) their mouth is open: flaps while their lines play,
    each line's pattern drawn from its own seed (the same line flaps the same in any plan)."""
    out: dict[str, list[tuple[int, int]]] = {}
    for who, start, end in sorted(speech, key=lambda s: (s[1], s[2], s[0])):
        rng = random.Random(f"flap:{seed}:{who}:{start}:{end}")
        t = start + rng.randint(0, 60)
        spans = out.setdefault(who, [])
        while t < end - 40:
            stop = min(end, t + rng.randint(*_FLAP_OPEN_MS))
            spans.append((t, stop))
            t = stop + rng.randint(*_FLAP_SHUT_MS)
    return {who: _union(spans) for who, spans in out.items()}


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _shot_mouths(
    start: int, end: int, cast: Sequence[str], flaps: dict[str, list[tuple[int, int]]]
) -> tuple[tuple[str, tuple[tuple[int, int], ...]], ...]:
    out = []
    for who in cast:
        inside = tuple(
            (max(a, start) - start, min(b, end) - start)
            for a, b in flaps.get(who, ())
            if min(b, end) - max(a, start) >= 20
        )
        if inside:
            out.append((who, inside))
    return tuple(out)


def title_shots(
    duration_ms: int, seed: int, *, backgrounds: Sequence[str] = BACKGROUNDS
) -> tuple[Shot, ...]:
    """An intro of title cards tiling [0, duration_ms), each 2-8 s, each on a new background."""
    if duration_ms <= 0:
        return ()
    rng = random.Random(f"title:{seed}")
    count = -(-duration_ms // MAX_SHOT_MS)
    bounds = [duration_ms * i // count for i in range(count + 1)]
    names = rng.sample(list(backgrounds), k=min(count, len(backgrounds)))
    return tuple(
        Shot(a, b, names[i % len(names)], (), TITLE) for i, (a, b) in enumerate(pairwise(bounds))
    )


def shift_shots(shots: Sequence[Shot], offset_ms: int) -> tuple[Shot, ...]:
    """The same shots, offset_ms later."""
    return tuple(
        dataclasses.replace(s, start_ms=s.start_ms + offset_ms, end_ms=s.end_ms + offset_ms)
        for s in shots
    )


def _pauses(speech: Speech, duration_ms: int) -> list[tuple[int, int]]:
    """The spans of [0, duration_ms) where nobody speaks."""
    pauses: list[tuple[int, int]] = []
    cursor = 0
    for start, end in sorted((max(0, s), min(duration_ms, e)) for _, s, e in speech):
        if start > cursor:
            pauses.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < duration_ms:
        pauses.append((cursor, duration_ms))
    return pauses


def _cut_bounds(
    duration_ms: int, pauses: Sequence[tuple[int, int]], speech: Speech, rng: random.Random
) -> list[int]:
    """Cut times 0 = b0 < b1 < ... = duration_ms with every gap in [MIN, MAX] when possible."""
    line_starts = sorted({s for _, s, _ in speech})
    bounds = [0]
    while duration_ms - bounds[-1] > MAX_SHOT_MS:
        start = bounds[-1]
        lo, hi = start + MIN_SHOT_MS, min(start + MAX_SHOT_MS, duration_ms - MIN_SHOT_MS)
        target = start + rng.randint(2500, 6500)
        bounds.append(_best_cut(lo, hi, target, pauses, line_starts))
    bounds.append(duration_ms)
    return bounds


def _best_cut(
    lo: int, hi: int, target: int, pauses: Sequence[tuple[int, int]], line_starts: Sequence[int]
) -> int:
    """The cut in [lo, hi] nearest target, preferring pauses, then line starts."""
    target = min(max(target, lo), hi)
    candidates: list[tuple[float, int]] = [(20.0, target)]
    for a, b in pauses:
        left, right = max(a, lo), min(b, hi)
        if left <= right:
            mid = min(max((a + b) // 2, left), right)
            candidates.append((abs(mid - target) / 1000, mid))
    candidates += [(10 + abs(s - target) / 1000, s) for s in line_starts if lo <= s <= hi]
    return min(candidates)[1]


def _speech_time(speech: Speech, start: int, end: int) -> dict[str, int]:
    """Milliseconds each character speaks within [start, end)."""
    totals: dict[str, int] = {}
    for who, s, e in speech:
        overlap = min(e, end) - max(s, start)
        if overlap > 0:
            totals[who] = totals.get(who, 0) + overlap
    return totals


def _casts(
    spans: Sequence[tuple[int, int]],
    speech: Speech,
    character_ids: Sequence[str],
    rng: random.Random,
) -> list[tuple[str, ...]]:
    """Who is on screen in each span: its speakers (most speech first), else someone idle."""
    casts: list[tuple[str, ...]] = []
    previous: str | None = None
    for start, end in spans:
        totals = _speech_time(speech, start, end)
        ranked = sorted(totals, key=lambda who: (-totals[who], who))[:2]
        lone = len(ranked) == 1 and previous not in (None, ranked[0])
        if lone and rng.random() < _LISTENER_CHANCE:
            ranked.append(str(previous))
        elif lone and rng.random() < _OFFSCREEN_CHANCE:
            ranked = [str(previous)]  # the speaker is heard, the listener seen
        if not ranked:
            ranked = _idle_cast(previous, character_ids, rng)
        casts.append(tuple(ranked))
        previous = ranked[0] if ranked else previous
    return casts


def _reverse_angles(casts: Sequence[tuple[str, ...]], scenes: Sequence[str]) -> list[bool]:
    """Per shot, whether it is the reverse angle of the one before (characters swap sides):
    when the background and the cast stay, so every cut changes the picture (an editor never
    cuts between identical framings)."""
    flips = [False] * len(casts)
    for i in range(1, len(casts)):
        same = scenes[i] == scenes[i - 1] and set(casts[i]) == set(casts[i - 1])
        flips[i] = same and not flips[i - 1]
    return flips


def _idle_cast(previous: str | None, character_ids: Sequence[str], rng: random.Random) -> list[str]:
    """A shot without speech: the background alone, or one character idle."""
    if not character_ids or rng.random() >= _EMPTY_SHOT_IDLE_CHANCE:
        return []
    if previous is not None and rng.random() < 0.5:
        return [previous]
    return [rng.choice(list(character_ids))]


def _scene_backgrounds(
    spans: Sequence[tuple[int, int]],
    pauses: Sequence[tuple[int, int]],
    backgrounds: Sequence[str],
    rng: random.Random,
) -> list[str]:
    """One background per span: scenes of 3-7 shots, ending early at a long pause."""
    if not backgrounds:
        raise ValueError("no backgrounds to plan shots on")
    long_pauses = [(a, b) for a, b in pauses if b - a >= _SCENE_BREAK_PAUSE_MS]
    current, length = rng.choice(list(backgrounds)), rng.randint(3, 7)
    names: list[str] = []
    shown = 0
    for start, _ in spans:
        in_pause = any(a <= start <= b for a, b in long_pauses)
        if shown >= length or (in_pause and shown >= 2):
            others = [b for b in backgrounds if b != current] or list(backgrounds)
            current, length, shown = rng.choice(others), rng.randint(3, 7), 0
        names.append(current)
        shown += 1
    return names


def _motions(count: int, rng: random.Random) -> list[str]:
    """A camera move per shot, never the same move twice in a row."""
    motions: list[str] = []
    for _ in range(count):
        motion = rng.choices(MOTIONS, weights=_MOTION_WEIGHTS)[0]
        while motions and motion == motions[-1]:
            motion = rng.choices(MOTIONS, weights=_MOTION_WEIGHTS)[0]
        motions.append(motion)
    return motions
