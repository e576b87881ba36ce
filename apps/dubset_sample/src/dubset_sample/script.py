"""The episode script: who says which line when, in both languages (pure)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dubset_sample.bank import BankLine

QUICK_GAP_MS = (30, 120)  # back-and-forth under the paper's 125 ms merge gap
NORMAL_GAP_MS = (250, 1200)
PAUSE_GAP_MS = (2000, 5000)  # a beat between scenes
OVERLAP_MS = (250, 800)
QUICK_RATE = 0.12
PAUSE_RATE = 0.07
LEAD_IN_MS = (1500, 4000)
TAIL_MS = 1500
EN_LAG_MS = 150  # a dub line starts within this of its Japanese line (lip-sync)

DurationOf = Callable[[int, str, BankLine], int]  # (speaker index, "ja"|"en", line) -> ms


@dataclass(frozen=True)
class Span:
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class ScriptLine:
    """One line, with its times in the program timeline (before any intro)."""

    index: int
    speaker: int
    line: BankLine
    transition: str  # "start" | "normal" | "quick" | "pause" | "overlap"
    ja: Span
    en: Span


@dataclass(frozen=True)
class ScriptParams:
    program_ms: int
    characters: int
    overlap_rate: float
    seed: int


def write_script(
    bank: Sequence[BankLine], params: ScriptParams, duration_of: DurationOf
) -> tuple[ScriptLine, ...]:
    """Lines in turn until the program is full; durations come from the voices."""
    if not bank:
        raise ValueError("the line bank is empty")
    if params.characters < 1:
        raise ValueError("an episode needs at least one character")
    rng = np.random.default_rng([params.seed, 1])
    order = _line_order(len(bank), rng)
    out: list[ScriptLine] = []
    speaker = int(rng.integers(params.characters))
    ja_end = en_end = int(rng.integers(*LEAD_IN_MS))
    for index in range(len(order) * 4):
        line = bank[order[index % len(order)]]
        transition = _transition(out, params, rng)
        if index:
            speaker = _next_speaker(speaker, params.characters, transition, rng)
        ja_ms = duration_of(speaker, "ja", line)
        en_ms = duration_of(speaker, "en", line)
        ja_start, en_start = _starts(out, transition, ja_end, en_end, rng)
        if max(ja_start + ja_ms, en_start + en_ms) + TAIL_MS > params.program_ms:
            break
        out.append(
            ScriptLine(
                index,
                speaker,
                line,
                transition,
                Span(ja_start, ja_start + ja_ms),
                Span(en_start, en_start + en_ms),
            )
        )
        ja_end, en_end = ja_start + ja_ms, en_start + en_ms
    return tuple(out)


def _line_order(n: int, rng: np.random.Generator) -> list[int]:
    return [int(i) for i in rng.permutation(n)]


def _transition(done: list[ScriptLine], params: ScriptParams, rng: np.random.Generator) -> str:
    roll = float(rng.random())
    if not done:
        return "start"
    can_overlap = params.characters > 1 and done[-1].transition != "overlap"
    if can_overlap and roll < params.overlap_rate:
        return "overlap"
    roll = float(rng.random())
    if roll < QUICK_RATE and params.characters > 1:
        return "quick"
    if roll < QUICK_RATE + PAUSE_RATE:
        return "pause"
    return "normal"


def _next_speaker(previous: int, characters: int, transition: str, rng: np.random.Generator) -> int:
    if characters == 1:
        return 0
    # Mostly a different character answers; quick back-and-forth and cutting in are always
    # someone else.
    if transition in ("normal", "pause") and float(rng.random()) < 0.15:
        return previous
    return (previous + 1 + int(rng.integers(characters - 1))) % characters


def _starts(
    done: list[ScriptLine],
    transition: str,
    ja_end: int,
    en_end: int,
    rng: np.random.Generator,
) -> tuple[int, int]:
    if transition == "start":
        return ja_end, en_end + int(rng.integers(0, EN_LAG_MS))
    if transition == "overlap":
        prev = done[-1]
        ja_ov = min(int(rng.integers(*OVERLAP_MS)), (prev.ja.end_ms - prev.ja.start_ms) // 2)
        en_ov = min(int(rng.integers(*OVERLAP_MS)), (prev.en.end_ms - prev.en.start_ms) // 2)
        return ja_end - ja_ov, en_end - en_ov
    ranges = {"quick": QUICK_GAP_MS, "pause": PAUSE_GAP_MS, "normal": NORMAL_GAP_MS}
    base = max(ja_end, en_end) + int(rng.integers(*ranges[transition]))
    # The language that finished last keeps the drawn gap; the other one lags a little.
    lag = int(rng.integers(0, EN_LAG_MS))
    if en_end >= ja_end:
        return base + (lag if transition != "quick" else 0), base
    return base, base + (lag if transition != "quick" else 0)
