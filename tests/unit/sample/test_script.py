"""The episode script: timing invariants for any seed, lengths and cast size."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from dubset_sample.bank import BankLine
from dubset_sample.script import (
    EN_LAG_MS,
    OVERLAP_MS,
    QUICK_GAP_MS,
    TAIL_MS,
    ScriptLine,
    ScriptParams,
    write_script,
)

BANK = tuple(BankLine(f"L{i:03d}", "あ" * (1 + i % 9), "word " * (1 + i % 7)) for i in range(40))


def fake_duration(speaker: int, lang: str, line: BankLine) -> int:
    # Deterministic, language-dependent lengths so JA and EN differ as real dubs do.
    text = line.ja if lang == "ja" else line.en
    return 400 + 170 * len(text) + 37 * speaker


def script(seed: int, seconds: int = 120, characters: int = 3, overlap: float = 0.05):
    params = ScriptParams(seconds * 1000, characters, overlap, seed)
    return write_script(BANK, params, fake_duration)


def spans(lines: tuple[ScriptLine, ...], lang: str) -> list[tuple[int, int, int]]:
    return [(getattr(ln, lang).start_ms, getattr(ln, lang).end_ms, ln.speaker) for ln in lines]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    seconds=st.integers(5, 400),
    characters=st.integers(1, 8),
    overlap=st.floats(0.0, 0.5),
)
def test_timing_invariants(seed: int, seconds: int, characters: int, overlap: float) -> None:
    lines = script(seed, seconds, characters, overlap)
    assert lines == script(seed, seconds, characters, overlap)  # deterministic
    for lang in ("ja", "en"):
        prev_end_by_speaker: dict[int, int] = {}
        for start, end, speaker in spans(lines, lang):
            assert 0 < start < end <= seconds * 1000 - TAIL_MS
            # Nobody talks over themselves.
            assert start >= prev_end_by_speaker.get(speaker, 0)
            prev_end_by_speaker[speaker] = end
    for a, b in itertools.pairwise(lines):
        assert b.ja.start_ms > a.ja.start_ms and b.en.start_ms > a.en.start_ms
        if b.transition == "overlap":
            assert a.speaker != b.speaker and a.transition != "overlap"
            assert b.ja.start_ms < a.ja.end_ms and b.en.start_ms < a.en.end_ms
            assert a.ja.end_ms - b.ja.start_ms < OVERLAP_MS[1]
        else:
            assert b.ja.start_ms >= a.ja.end_ms and b.en.start_ms >= a.en.end_ms
        if b.transition == "quick":
            gap = min(b.ja.start_ms - a.ja.end_ms, b.en.start_ms - a.en.end_ms)
            assert QUICK_GAP_MS[0] <= gap <= QUICK_GAP_MS[1] < 125
            assert a.speaker != b.speaker
        if b.transition in ("normal", "pause", "quick"):
            # The dub starts with (or just after) the original line: lip-sync.
            assert abs(b.en.start_ms - b.ja.start_ms) <= EN_LAG_MS


def test_a_two_minute_script_has_every_kind_of_turn() -> None:
    kinds = {ln.transition for seed in range(6) for ln in script(seed, 120, 3, 0.1)}
    assert kinds == {"start", "normal", "quick", "pause", "overlap"}


def test_overlap_rate_is_respected_roughly() -> None:
    lines = [ln for seed in range(20) for ln in script(seed, 300, 4, 0.2)[1:]]
    share = sum(ln.transition == "overlap" for ln in lines) / len(lines)
    assert 0.1 < share < 0.3
    assert not any(ln.transition == "overlap" for ln in script(3, 300, 4, 0.0))
    assert not any(ln.transition == "overlap" for ln in script(3, 300, 1, 0.5))


def test_every_character_speaks_and_the_program_fills() -> None:
    lines = script(11, 240, 5)
    assert {ln.speaker for ln in lines} == set(range(5))
    last = max(max(ln.ja.end_ms, ln.en.end_ms) for ln in lines)
    assert last > 240_000 - 10_000


def test_too_short_gives_no_lines_and_bad_params_raise() -> None:
    assert script(1, 1) == ()
    try:
        write_script((), ScriptParams(10_000, 2, 0.0, 1), fake_duration)
    except ValueError as exc:
        assert "empty" in str(exc)
    else:
        raise AssertionError("an empty bank must be refused")
