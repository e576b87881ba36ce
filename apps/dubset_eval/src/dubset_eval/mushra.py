"""MUSHRA statistics: rater post-screening (ITU-R BS.1534-3) and Student-t means per system."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from scipy import stats

HIDDEN_REFERENCE = "reference"
ANCHOR = "anchor"


@dataclass(frozen=True)
class Rating:
    """One slider value: `rater` gave `system` `score` (0..100) in trial `trial`."""

    rater: str
    trial: str
    system: str
    score: float


@dataclass(frozen=True)
class ScreeningPolicy:
    """BS.1534-3 §4.1.2: drop a rater who scores the hidden reference below `reference_min`
    for more than `max_fraction` of their trials; optionally the same for an anchor rated
    above `anchor_max` (the recommendation's rule for the mid-range anchor)."""

    reference_min: float = 90.0
    max_fraction: float = 0.15
    anchor_max: float | None = None
    reference_system: str = HIDDEN_REFERENCE
    anchor_system: str = ANCHOR


@dataclass(frozen=True)
class Exclusion:
    rater: str
    reason: str


@dataclass(frozen=True)
class Summary:
    """Mean and the half-width of its confidence interval; `half_width` is None below 2 ratings
    (no variance to estimate)."""

    n: int
    mean: float
    std: float | None
    half_width: float | None

    @property
    def low(self) -> float | None:
        return None if self.half_width is None else self.mean - self.half_width

    @property
    def high(self) -> float | None:
        return None if self.half_width is None else self.mean + self.half_width


@dataclass(frozen=True)
class Report:
    raters: tuple[str, ...]  # every rater seen, sorted
    kept: tuple[str, ...]
    excluded: tuple[Exclusion, ...]
    systems: tuple[str, ...]  # in `order` when given, then by name
    overall: dict[str, Summary]  # system -> summary over the kept raters' ratings
    per_rater: dict[str, dict[str, Summary]]  # rater -> system -> summary (every rater)
    confidence: float


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> Summary:
    """Sample mean, two-sided Student-t interval: mean +- t(1 - alpha/2, n - 1) * s / sqrt(n)."""
    xs = [float(v) for v in values]
    if not xs:
        raise ValueError("no ratings to summarise")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    n = len(xs)
    mean = math.fsum(xs) / n
    if n < 2:
        return Summary(n, mean, None, None)
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    t = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1))
    return Summary(n, mean, std, t * std / math.sqrt(n))


def _fraction_rule(
    ratings: list[Rating], system: str, bad: str, limit: float, max_fraction: float
) -> str | None:
    """The reason to exclude, when the rater's scores of `system` break the limit too often."""
    scores = [r.score for r in ratings if r.system == system]
    if not scores:
        return None
    if bad == "below":
        hits = sum(1 for s in scores if s < limit)
    else:
        hits = sum(1 for s in scores if s > limit)
    fraction = hits / len(scores)
    if fraction <= max_fraction:
        return None
    return (
        f"scored {system} {bad} {limit:g} in {hits} of {len(scores)} trials "
        f"({fraction:.0%} > {max_fraction:.0%})"
    )


def screen(ratings: Iterable[Rating], policy: ScreeningPolicy) -> tuple[Exclusion, ...]:
    """The raters to exclude, sorted by name, each with the rule they broke."""
    by_rater: dict[str, list[Rating]] = defaultdict(list)
    for r in ratings:
        by_rater[r.rater].append(r)
    out = []
    for rater in sorted(by_rater):
        rs = by_rater[rater]
        reasons = [
            _fraction_rule(
                rs, policy.reference_system, "below", policy.reference_min, policy.max_fraction
            )
        ]
        if policy.anchor_max is not None:
            reasons.append(
                _fraction_rule(
                    rs, policy.anchor_system, "above", policy.anchor_max, policy.max_fraction
                )
            )
        found = [x for x in reasons if x is not None]
        if found:
            out.append(Exclusion(rater, "; ".join(found)))
    return tuple(out)


def _summaries(ratings: Iterable[Rating], confidence: float) -> dict[str, Summary]:
    by_system: dict[str, list[float]] = defaultdict(list)
    for r in ratings:
        by_system[r.system].append(r.score)
    return {s: mean_ci(v, confidence) for s, v in sorted(by_system.items())}


def report(
    ratings: Iterable[Rating],
    policy: ScreeningPolicy = ScreeningPolicy(),
    confidence: float = 0.95,
    order: tuple[str, ...] = (),
) -> Report:
    """Screen raters, then summarise every system over the kept raters and per rater."""
    rs = list(ratings)
    if not rs:
        raise ValueError("no ratings to report")
    for r in rs:
        if not 0.0 <= r.score <= 100.0 or math.isnan(r.score):
            raise ValueError(f"{r.rater}, trial {r.trial}: score {r.score} is outside 0..100")
    seen: set[tuple[str, str, str]] = set()
    for r in rs:
        key = (r.rater, r.trial, r.system)
        if key in seen:
            raise ValueError(f"{r.rater} rated {r.system} twice in trial {r.trial}")
        seen.add(key)
    excluded = screen(rs, policy)
    dropped = {e.rater for e in excluded}
    raters = tuple(sorted({r.rater for r in rs}))
    kept = tuple(x for x in raters if x not in dropped)
    names = {r.system for r in rs}
    systems = tuple(s for s in order if s in names) + tuple(sorted(names - set(order)))
    overall = _summaries((r for r in rs if r.rater not in dropped), confidence)
    per_rater = {x: _summaries((r for r in rs if r.rater == x), confidence) for x in raters}
    return Report(raters, kept, excluded, systems, overall, per_rater, confidence)
