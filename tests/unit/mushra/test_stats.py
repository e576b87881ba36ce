"""MUSHRA statistics: Student-t intervals and BS.1534-3 rater post-screening."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from dubset_eval.mushra import Rating, ScreeningPolicy, mean_ci, report, screen


def test_interval_matches_the_hand_computed_student_t() -> None:
    s = mean_ci([60, 70, 80])
    # mean 70, s = 10, t(0.975, 2) = 4.302653 -> 4.302653 * 10 / sqrt(3) = 24.8414
    assert s.mean == 70.0 and s.std == pytest.approx(10.0)
    assert s.half_width == pytest.approx(24.8414, abs=1e-4)
    assert s.half_width == pytest.approx(stats.t.ppf(0.975, 2) * 10 / math.sqrt(3))
    assert (s.low, s.high) == pytest.approx((45.1586, 94.8414), abs=1e-4)


def test_interval_level_and_size() -> None:
    xs = [55.0, 61.0, 70.0, 48.0, 66.0, 59.0, 73.0, 52.0]
    s90, s99 = mean_ci(xs, 0.90), mean_ci(xs, 0.99)
    sd = stats.tstd(xs)
    assert s90.half_width == pytest.approx(stats.t.ppf(0.95, 7) * sd / math.sqrt(8))
    assert s99.half_width == pytest.approx(stats.t.ppf(0.995, 7) * sd / math.sqrt(8))
    assert s90.half_width is not None and s99.half_width is not None
    assert s90.half_width < s99.half_width


def test_one_rating_has_no_interval_and_none_is_an_error() -> None:
    s = mean_ci([42])
    assert (s.n, s.mean, s.half_width, s.low) == (1, 42.0, None, None)
    with pytest.raises(ValueError, match="no ratings"):
        mean_ci([])


def _rater(name: str, reference: list[float], anchor: float = 10.0) -> list[Rating]:
    out = []
    for i, ref in enumerate(reference):
        out.append(Rating(name, f"t{i:02d}", "reference", ref))
        out.append(Rating(name, f"t{i:02d}", "baseline", 50.0))
        out.append(Rating(name, f"t{i:02d}", "anchor", anchor))
    return out


def test_rater_missing_the_hidden_reference_too_often_is_excluded() -> None:
    # 20 trials: 3 below 90 is 15 % (kept, the rule is "more than"); 4 is 20 % (excluded)
    ok = _rater("ok", [100] * 17 + [80, 85, 89])
    bad = _rater("bad", [100] * 16 + [80, 85, 89, 70])
    edge = _rater("edge", [90] * 20)  # exactly 90 is not below 90
    excluded = screen(ok + bad + edge, ScreeningPolicy())
    assert [e.rater for e in excluded] == ["bad"]
    assert "4 of 20 trials (20% > 15%)" in excluded[0].reason
    # the thresholds are settings
    assert [e.rater for e in screen(ok + bad, ScreeningPolicy(max_fraction=0.25))] == []
    assert [e.rater for e in screen(ok + edge, ScreeningPolicy(reference_min=95))] == ["edge"]


def test_optional_anchor_rule() -> None:
    loud = _rater("loud", [100] * 10, anchor=95.0)
    assert screen(loud, ScreeningPolicy()) == ()
    (e,) = screen(loud, ScreeningPolicy(anchor_max=90))
    assert e.rater == "loud" and "anchor above 90" in e.reason


def test_report_pools_kept_raters_and_keeps_per_rater_tables() -> None:
    a = [Rating("a", "t1", "baseline", 40), Rating("a", "t2", "baseline", 60)]
    a += [Rating("a", "t1", "reference", 100), Rating("a", "t2", "reference", 95)]
    b = [Rating("b", "t1", "baseline", 90), Rating("b", "t2", "baseline", 90)]
    b += [Rating("b", "t1", "reference", 30), Rating("b", "t2", "reference", 100)]
    r = report(a + b, order=("reference", "baseline"))
    assert r.raters == ("a", "b") and r.kept == ("a",)
    assert r.systems == ("reference", "baseline")
    assert r.overall["baseline"].mean == 50.0  # b (excluded) does not count
    assert r.per_rater["b"]["baseline"].mean == 90.0  # but still has its own table


def test_report_refuses_bad_scores_and_duplicates() -> None:
    with pytest.raises(ValueError, match=r"outside 0\.\.100"):
        report([Rating("a", "t1", "reference", 101)])
    with pytest.raises(ValueError, match="twice"):
        report([Rating("a", "t1", "reference", 90), Rating("a", "t1", "reference", 95)])
