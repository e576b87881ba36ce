"""Invariants of the alignment rule over random segment lists (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dubset_alignment.core.align import align
from dubset_alignment.core.model import Alignment, Segment


def segments(max_size: int = 40) -> st.SearchStrategy[list[Segment]]:
    one = st.builds(
        lambda start, length, text: Segment(start, start + length, text),
        st.integers(0, 60_000),
        st.integers(0, 4_000),
        st.sampled_from(["", "a", "bb", "ccc"]),
    )
    return st.lists(one, max_size=max_size)


gaps = st.integers(0, 1_000)
offsets = st.integers(-20_000, 20_000)


def _en_time_spans(
    al: Alignment,
    en: list[Segment],
    ja: list[Segment],
    offset: int,
) -> list[tuple[int, int, int, int]]:
    """(start, end) in EN time of every group: clips and unpaired singles combined."""
    spans = [(c.start_ms, c.end_ms, 0, 0) for c in al.clips]
    spans += [(en[i].start_ms, en[i].end_ms, 1, i) for i in al.unpaired_en]
    spans += [(ja[i].start_ms - offset, ja[i].end_ms - offset, 2, i) for i in al.unpaired_ja]
    return spans


@given(segments(), segments(), gaps, offsets)
def test_every_segment_is_in_exactly_one_place(
    en: list[Segment], ja: list[Segment], gap: int, offset: int
) -> None:
    al = align(en, ja, gap, offset)
    en_seen = [i for c in al.clips for i in c.en] + list(al.unpaired_en)
    ja_seen = [i for c in al.clips for i in c.ja] + list(al.unpaired_ja)
    assert sorted(en_seen) == list(range(len(en)))
    assert sorted(ja_seen) == list(range(len(ja)))


@given(segments(), segments(), gaps, offsets)
def test_clips_are_sorted_disjoint_and_separated_by_more_than_the_gap(
    en: list[Segment], ja: list[Segment], gap: int, offset: int
) -> None:
    al = align(en, ja, gap, offset)
    starts = [c.start_ms for c in al.clips]
    assert starts == sorted(starts)
    for a, b in zip(al.clips, al.clips[1:], strict=False):
        assert b.start_ms - a.end_ms > gap
    for c in al.clips:
        assert c.en and c.ja
        assert list(c.en) == sorted(c.en) and list(c.ja) == sorted(c.ja)
        members = [(en[i].start_ms, en[i].end_ms) for i in c.en]
        members += [(ja[i].start_ms - offset, ja[i].end_ms - offset) for i in c.ja]
        assert c.start_ms == min(s for s, _ in members)
        assert c.end_ms == max(e for _, e in members)
        assert (c.ja_start_ms, c.ja_end_ms) == (c.start_ms + offset, c.end_ms + offset)


@given(segments(), segments(), gaps)
def test_segments_in_different_groups_are_more_than_the_gap_apart(
    en: list[Segment], ja: list[Segment], gap: int
) -> None:
    al = align(en, ja, gap)
    group_of: dict[tuple[int, int], int] = {}
    for g, c in enumerate(al.clips):
        group_of.update({(0, i): g for i in c.en})
        group_of.update({(1, i): g for i in c.ja})
    singles = len(al.clips)
    for i in al.unpaired_en:
        group_of[(0, i)] = singles  # unpaired ones may share a group: test only vs clips
    for i in al.unpaired_ja:
        group_of[(1, i)] = singles + 1
    items = [((0, i), s) for i, s in enumerate(en)] + [((1, i), s) for i, s in enumerate(ja)]
    for ka, a in items:
        for kb, b in items:
            ga, gb = group_of[ka], group_of[kb]
            if ga == gb or (ga >= singles and gb >= singles):
                continue
            distance = max(a.start_ms, b.start_ms) - min(a.end_ms, b.end_ms)
            assert distance > gap


@given(segments(), segments(), gaps, offsets)
def test_rerun_and_shuffled_input_give_identical_output(
    en: list[Segment], ja: list[Segment], gap: int, offset: int
) -> None:
    first = align(en, ja, gap, offset)
    assert align(list(en), list(ja), gap, offset) == first
    perm_en = list(reversed(range(len(en))))
    shuffled = align([en[i] for i in perm_en], ja, gap, offset)
    remap = {new: old for new, old in enumerate(perm_en)}
    assert [tuple(sorted(remap[i] for i in c.en)) for c in shuffled.clips] == [
        c.en for c in first.clips
    ]
    assert [(c.start_ms, c.end_ms) for c in shuffled.clips] == [
        (c.start_ms, c.end_ms) for c in first.clips
    ]


@given(segments(), segments(), gaps, offsets)
def test_offset_shifts_ja_times_and_nothing_else(
    en: list[Segment], ja: list[Segment], gap: int, offset: int
) -> None:
    shifted_ja = [Segment(s.start_ms + 40_000, s.end_ms + 40_000, s.text) for s in ja]
    base = align(en, ja, gap, offset)
    moved = align(en, shifted_ja, gap, offset + 40_000)
    assert [(c.start_ms, c.end_ms, c.en, c.ja, c.en_text, c.ja_text) for c in moved.clips] == [
        (c.start_ms, c.end_ms, c.en, c.ja, c.en_text, c.ja_text) for c in base.clips
    ]
    assert [(c.ja_start_ms - 40_000, c.ja_end_ms - 40_000) for c in moved.clips] == [
        (c.ja_start_ms, c.ja_end_ms) for c in base.clips
    ]
    assert (moved.unpaired_en, moved.unpaired_ja) == (base.unpaired_en, base.unpaired_ja)


@settings(max_examples=50)
@given(segments(max_size=15), gaps)
def test_english_only_or_japanese_only_gives_no_clips(en: list[Segment], gap: int) -> None:
    assert align(en, [], gap).clips == ()
    assert align([], en, gap).clips == ()
    assert align(en, [], gap).unpaired_en == tuple(range(len(en)))


@given(segments(), segments(), gaps)
def test_matches_a_quadratic_reference_union_find(
    en: list[Segment], ja: list[Segment], gap: int
) -> None:
    items = [(0, i, s) for i, s in enumerate(en)] + [(1, i, s) for i, s in enumerate(ja)]
    parent = list(range(len(items)))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a in range(len(items)):
        for b in range(a + 1, len(items)):
            sa, sb = items[a][2], items[b][2]
            if max(sa.start_ms, sb.start_ms) - min(sa.end_ms, sb.end_ms) <= gap:
                parent[find(a)] = find(b)
    groups: dict[int, list[tuple[int, int]]] = {}
    for k, (lang, i, _s) in enumerate(items):
        groups.setdefault(find(k), []).append((lang, i))
    expected = sorted(
        (
            tuple(sorted(i for lang, i in g if lang == 0)),
            tuple(sorted(i for lang, i in g if lang == 1)),
        )
        for g in groups.values()
        if {lang for lang, _ in g} == {0, 1}
    )
    got = sorted((c.en, c.ja) for c in align(en, ja, gap).clips)
    assert got == expected
