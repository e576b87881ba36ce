"""DER against hand-computed cases: collar, optimal mapping, overlapped speech."""

from __future__ import annotations

import itertools

import pytest

from dubset_eval.der import Turn, diarization_error


def test_collar_false_alarm_and_confusion_by_hand() -> None:
    ref = [Turn("A", 0, 2000), Turn("B", 3000, 5000)]
    hyp = [Turn("x", 0, 2500), Turn("y", 3000, 4000), Turn("x", 4000, 5000)]
    # Reference boundaries 0, 2000, 3000, 5000; +-250 ms not scored, so scored time is
    # [250,1750] [2250,2750] [3250,4750] (and nothing past 5250).
    # Reference speech scored: A 1500 + B 1500 = 3000 ms.
    # Co-activity: x-A 1500, x-B 750 ([4000,4750]), y-B 750 ([3250,4000]), y-A 0.
    # Best mapping x->A, y->B (2250 > x->B + y->A = 750).
    # Errors: x in [2250,2500] with no reference: false alarm 250;
    #         x in [4000,4750] while B talks: confusion 750. DER = 1000 / 3000.
    s = diarization_error(ref, hyp)
    assert (s.reference_ms, s.miss_ms, s.false_alarm_ms, s.confusion_ms) == (3000, 0, 250, 750)
    assert s.der == pytest.approx(1 / 3)
    assert s.mapping == (("x", "A"), ("y", "B"))
    assert s.speaker_count_error == 0


def test_without_collar_every_frame_counts() -> None:
    # A talks 0-1000; the hypothesis covers only 0-500: miss 500 of 1000.
    s = diarization_error([Turn("A", 0, 1000)], [Turn("h", 0, 500)], collar_ms=0)
    assert (s.reference_ms, s.miss_ms, s.false_alarm_ms, s.confusion_ms) == (1000, 500, 0, 0)
    assert s.der == pytest.approx(0.5)
    # With the collar, [750,1250] is not scored: A scores [250,750] and h covers [250,500],
    # so miss 250 of 500.
    s = diarization_error([Turn("A", 0, 1000)], [Turn("h", 0, 500)])
    assert (s.reference_ms, s.miss_ms) == (500, 250)


def test_overlapped_speech_is_scored() -> None:
    ref = [Turn("A", 0, 4000), Turn("B", 2000, 4000)]
    hyp = [Turn("x", 0, 4000)]
    # Boundaries 0, 2000, 4000 -> scored [250,1750] and [2250,3750].
    # Reference: A 1500 + 1500, B 1500 = 4500. In [2250,3750] Nref = 2, Nhyp = 1 and the
    # mapped x->A is correct: max(2,1) - 1 = 1 missed speaker for 1500 ms.
    s = diarization_error(ref, hyp)
    assert (s.reference_ms, s.miss_ms, s.false_alarm_ms, s.confusion_ms) == (4500, 1500, 0, 0)
    assert s.der == pytest.approx(1 / 3)
    assert s.speaker_count_error == -1


def test_overlap_with_the_wrong_second_speaker_is_confusion() -> None:
    ref = [Turn("A", 0, 4000), Turn("B", 2000, 4000)]
    hyp = [Turn("x", 0, 4000), Turn("y", 2000, 3000), Turn("z", 3000, 4000)]
    # Scored as above. Co-activity: x-A 3000, x-B 1500, y-B 750 ([2250,3000]),
    # z-B 750 ([3000,3750]), y-A 750, z-A 750. Best: x->A (3000) + y->B or z->B (750).
    # In [2250,3750] Nref = 2, Nhyp = 2, correct = 1 (x) + 1 for the 750 ms of the mapped
    # one of y/z: confusion 750. Three hypothesis speakers for two: count error +1.
    s = diarization_error(ref, hyp)
    assert (s.reference_ms, s.miss_ms, s.false_alarm_ms, s.confusion_ms) == (4500, 0, 0, 750)
    assert s.speaker_count_error == 1


def test_speech_after_the_reference_is_false_alarm() -> None:
    s = diarization_error([Turn("A", 0, 1000)], [Turn("a", 0, 1000), Turn("b", 5000, 6000)])
    # [250,750] correct; b's 1000 ms lie far from every reference boundary.
    assert (s.reference_ms, s.false_alarm_ms, s.confusion_ms) == (500, 1000, 0)
    assert s.der == pytest.approx(2.0)


def test_labels_and_order_do_not_matter() -> None:
    ref = [Turn("A", 0, 3000), Turn("B", 2500, 6000), Turn("C", 6500, 9000), Turn("A", 9000, 9900)]
    hyp = [Turn("1", 0, 2800), Turn("2", 2700, 6100), Turn("3", 6400, 9200), Turn("1", 9200, 9900)]
    base = diarization_error(ref, hyp)
    for labels in itertools.permutations(["p", "q", "r"]):
        rename = dict(zip(["1", "2", "3"], labels, strict=True))
        renamed = [Turn(rename[t.speaker], t.start_ms, t.end_ms) for t in reversed(hyp)]
        s = diarization_error(ref, renamed)
        assert (s.miss_ms, s.false_alarm_ms, s.confusion_ms) == (
            base.miss_ms,
            base.false_alarm_ms,
            base.confusion_ms,
        )
        assert {ref for _, ref in s.mapping} == {"A", "B", "C"}


def test_perfect_hypothesis_scores_zero() -> None:
    ref = [Turn("A", 120, 3370), Turn("B", 3000, 4000)]
    s = diarization_error(ref, [Turn("b", 3000, 4000), Turn("a", 120, 3370)])
    assert s.der == 0.0
    assert s.mapping == (("a", "A"), ("b", "B"))


def test_no_reference_speech_has_no_rate() -> None:
    s = diarization_error([], [Turn("a", 0, 1000)])
    assert s.der is None
    assert s.false_alarm_ms == 1000
