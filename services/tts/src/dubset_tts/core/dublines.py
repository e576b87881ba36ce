"""Timing a dubbed episode: each English line on its Japanese line's span.

A line starts where its Japanese line starts. Its length is the translation's natural length,
moved toward the Japanese line's length (the mouth flaps) and never past the line's budget (up
to just before the next line, whoever says it): the wanted length is the natural one clamped
into [Japanese length, budget], reached by a time stretch within the fit policy's bounds.
Speech still longer than the budget is cut there with a short fade, and the line says by how
much it did not fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from dubset_tts.core.model import FitPolicy

FIT_TOLERANCE_MS = 40  # a line this little over its budget still fits (a fade's worth)


@dataclass(frozen=True)
class DubLine:
    """One translated line to speak (translation.json), on the video's timeline."""

    index: int
    start_ms: int
    end_ms: int  # the Japanese line's end
    budget_ms: int  # from start_ms
    speaker: str
    text: str

    @property
    def ja_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class Timing:
    factor: float  # duration factor of the stretch (1: natural; < 1: faster)
    length_ms: int  # the speech's length after the stretch, before any cut
    kept_ms: int  # what is kept: at most the budget
    fits: bool

    @property
    def over_ms(self) -> int:
        """How much speech the budget cut off."""
        return self.length_ms - self.kept_ms


def time_line(natural_ms: int, line: DubLine, policy: FitPolicy) -> Timing:
    """How a line's speech of natural_ms is stretched and how much of it is kept."""
    budget = max(1, line.budget_ms)
    if natural_ms <= 0:
        return Timing(1.0, 0, 0, True)
    wanted = min(max(natural_ms, line.ja_ms), budget)
    factor = min(max(wanted / natural_ms, 1.0 / policy.max_speedup), policy.max_slowdown)
    if abs(factor - 1.0) < 1e-3:
        factor = 1.0
    length = round(natural_ms * factor)
    kept = min(length, budget)
    return Timing(round(factor, 4), length, kept, length <= budget + FIT_TOLERANCE_MS)
