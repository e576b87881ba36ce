"""Clip matching, precision/recall and boundary errors on constructed cases."""

from __future__ import annotations

import pytest

from dubset_eval.clips import ClipSpan, iou, match_clips, score_clips


def same(start: int, end: int, offset: int = 1500) -> ClipSpan:
    """A clip whose JA span is its EN span shifted by offset."""
    return ClipSpan(start + offset, end + offset, start, end)


def test_iou() -> None:
    assert iou(0, 100, 50, 150) == pytest.approx(50 / 150)
    assert iou(0, 100, 100, 200) == 0.0
    assert iou(0, 0, 0, 0) == 0.0


def test_precision_recall_f1() -> None:
    truth = [same(0, 4000), same(5000, 8000), same(10000, 12000)]
    result = [
        same(100, 4000),  # IoU 0.975 both: match truth 0
        same(5000, 8100),  # IoU 0.97: match truth 1
        ClipSpan(13000, 14000, 10000, 12000),  # EN exact but JA disjoint: no match
        same(20000, 21000),  # nothing there
    ]
    s = score_clips(truth, result)
    assert s.matches == ((0, 0), (1, 1))
    assert s.precision == pytest.approx(2 / 4)
    assert s.recall == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(2 * (1 / 2) * (2 / 3) / (1 / 2 + 2 / 3))


def test_iou_of_exactly_half_matches() -> None:
    assert match_clips([same(0, 1000)], [same(0, 500)]) == [(0, 0)]
    assert match_clips([same(0, 1000)], [same(0, 499)]) == []


def test_matching_is_one_to_one() -> None:
    s = score_clips([same(0, 1000)], [same(0, 1000), same(0, 990)])
    assert s.matches == ((0, 0),)
    assert (s.precision, s.recall) == (0.5, 1.0)


def test_matching_maximises_the_number_of_matches() -> None:
    # Greedy by IoU pairs result 0 with truth 0 (IoU 1) and leaves result 1 alone; the
    # optimum is result 0 -> truth 1 (IoU 80/120) and result 1 -> truth 0 (IoU 70/100).
    truth = [same(0, 100), same(20, 120)]
    result = [same(0, 100), same(0, 70)]
    assert match_clips(truth, result) == [(0, 1), (1, 0)]


def test_boundary_error_median_and_p95() -> None:
    truth = [same(0, 10000), same(20000, 30000)]
    result = [
        ClipSpan(1500, 11510, 20, 10030),  # errors: ja 0, 10; en 20, 30
        ClipSpan(21540, 31550, 20060, 31000),  # errors: ja 40, 50; en 60, 1000
    ]
    s = score_clips(truth, result)
    assert sorted(s.boundary_errors_ms) == [0, 10, 20, 30, 40, 50, 60, 1000]
    # Median of 8 values: (30 + 40) / 2. p95 (linear): rank 0.95 * 7 = 6.65, between 60 and
    # 1000: 60 + 0.65 * 940 = 671.
    assert s.median_boundary_error_ms == pytest.approx(35.0)
    assert s.p95_boundary_error_ms == pytest.approx(671.0)
    # JA-EN offset of each clip: (1500 - 20) - 1500 = -20 and (21540 - 20060) - 1500 = -20.
    assert s.offset_errors_ms == (20, 20)
    assert s.median_offset_error_ms == pytest.approx(20.0)


def test_nothing_to_match() -> None:
    s = score_clips([same(0, 1000)], [])
    assert (s.precision, s.recall, s.f1, s.median_boundary_error_ms) == (None, 0.0, None, None)
