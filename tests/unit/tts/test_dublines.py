"""Timing a dubbed line: toward the Japanese length, never past its budget."""

from __future__ import annotations

import pytest

from dubset_tts.core.dublines import DubLine, time_line
from dubset_tts.core.model import FitPolicy

POLICY = FitPolicy(max_speedup=1.35, max_slowdown=1.25)


def line(ja_ms: int, budget_ms: int) -> DubLine:
    return DubLine(0, 1000, 1000 + ja_ms, budget_ms, "S0", "Hello there.")


@pytest.mark.parametrize(
    ("natural", "ja", "budget", "factor", "kept", "fits"),
    [
        (1000, 1000, 1500, 1.0, 1000, True),  # already the Japanese length
        (800, 1000, 1500, 1.25, 1000, True),  # slowed toward the mouth flaps
        (500, 1000, 1500, 1.25, 625, True),  # but at most 1.25x
        (1200, 1000, 1500, 1.0, 1200, True),  # longer than the Japanese, within budget: natural
        (1800, 1000, 1500, 0.8333, 1500, True),  # compressed onto the budget
        (2500, 1000, 1500, 0.7407, 1500, False),  # 1/1.35 is not enough: cut at the budget
    ],
)
def test_a_line_is_fitted_toward_the_japanese_and_into_its_budget(
    natural: int, ja: int, budget: int, factor: float, kept: int, fits: bool
) -> None:
    t = time_line(natural, line(ja, budget), POLICY)
    assert (t.factor, t.kept_ms, t.fits) == (factor, kept, fits)
    assert t.kept_ms <= budget
    if not fits:
        assert t.over_ms == round(2500 / 1.35) - 1500


def test_no_stretch_policy_keeps_the_natural_length() -> None:
    t = time_line(1800, line(1000, 1500), FitPolicy(1.0, 1.0))
    assert (t.factor, t.length_ms, t.kept_ms, t.fits) == (1.0, 1800, 1500, False)
