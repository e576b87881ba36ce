"""The truth's merge rule (dubset_sample.merge) against the alignment service's: two
implementations of the paper's rule that must agree on every input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dubset_alignment.core.align import align
from dubset_alignment.core.model import Segment
from dubset_sample.merge import Pair, Span, close, merge

spans = st.lists(
    st.builds(
        lambda start, length: Span(start, start + length),
        st.integers(0, 20_000),
        st.integers(0, 3_000),
    ),
    max_size=25,
)


def _service(en: list[Span], ja: list[Span], offset: int, gap: int) -> list[Pair]:
    result = align(
        [Segment(s.start_ms, s.end_ms) for s in en],
        [Segment(s.start_ms, s.end_ms) for s in ja],
        gap,
        offset,
    )
    return [
        Pair(c.start_ms, c.end_ms, c.ja_start_ms, c.ja_end_ms, c.en, c.ja) for c in result.clips
    ]


@settings(max_examples=400, deadline=None)
@given(spans, spans, st.integers(-5_000, 5_000), st.integers(0, 500))
def test_the_truth_and_the_service_make_the_same_pairs(
    en: list[Span], ja: list[Span], offset: int, gap: int
) -> None:
    assert merge(en, ja, offset, gap) == _service(en, ja, offset, gap)


def test_worked_example() -> None:
    # EN 0-1000 and JA 1600-2500 (EN time 1100-2000, 100 ms after): one pair at the 125 ms
    # default; EN 5000-6000 alone; JA 9000-9100 alone.
    en = [Span(0, 1000), Span(5000, 6000)]
    ja = [Span(1600, 2500), Span(9000, 9100)]
    assert merge(en, ja, 500) == [Pair(0, 2000, 500, 2500, (0,), (0,))]
    assert merge(en, ja, 500, max_gap_ms=99) == []


def test_the_gap_bound_is_inclusive_and_overlap_is_close() -> None:
    assert close(Span(0, 100), Span(225, 300), 125)
    assert not close(Span(0, 100), Span(226, 300), 125)
    assert close(Span(0, 500), Span(100, 200), 0)


def test_a_chain_links_transitively() -> None:
    # EN 0-100, JA 200-300, EN 400-500: each 100 ms from the next, 300 ms end to end.
    en, ja = [Span(0, 100), Span(400, 500)], [Span(200, 300)]
    assert merge(en, ja, 0, 100) == [Pair(0, 500, 0, 500, (0, 1), (0,))]
