"""Translation's pure core: lines and budgets, syllables, subtitle cues paired with lines."""

from __future__ import annotations

import json

import pytest

from dubset_common.subtitles import Cue
from dubset_translation.core.assemble import by_subtitles, by_translator, not_english
from dubset_translation.core.cuepair import pair
from dubset_translation.core.fit import spoken_ms, syllables
from dubset_translation.core.jsonio import dumps
from dubset_translation.core.lines import GAP_MS, MAX_EXTEND_MS, budgets, ja_lines
from dubset_translation.core.model import JaLine, TranslationInputError


def test_lines_take_the_speaker_who_says_most_of_them_and_skip_empty_text() -> None:
    segments = [(5000, 6000, "また"), (1000, 3000, "ただいま"), (7000, 7500, "  ")]
    turns = [(900, 1500, "B"), (1500, 3100, "A"), (4900, 6100, "B")]
    lines = ja_lines(segments, turns)
    assert [(line.text, line.speaker, line.segments) for line in lines] == [
        ("ただいま", "A", (1,)),
        ("また", "B", (0,)),
    ]
    with pytest.raises(TranslationInputError, match="ends"):
        ja_lines([(10, 5, "x")])


def test_a_budget_runs_into_silence_but_never_into_the_next_line() -> None:
    lines = [JaLine(0, 1000, "a"), JaLine(1100, 2000, "b"), JaLine(5000, 6000, "c")]
    assert budgets(lines) == [
        1000,  # the next line starts 100 ms later: no room past its own span
        2000 + MAX_EXTEND_MS - 1100,
        1000 + MAX_EXTEND_MS,
    ]
    tight = [JaLine(0, 1000, "a"), JaLine(1400, 2000, "b")]
    assert budgets(tight)[0] == 1400 - GAP_MS


@pytest.mark.parametrize(
    ("text", "count"),
    [("I'm home.", 2), ("Ready for tomorrow's test?", 7), ("beautiful", 3), ("make", 1),
     ("little", 2), ("wanted", 2), ("jumped", 1), ("42", 4)],
)  # fmt: skip
def test_syllables(text: str, count: int) -> None:
    assert syllables(text) == count


def test_spoken_length_grows_with_syllables_and_sentence_breaks() -> None:
    assert spoken_ms("I'm home.", 5.0) == 400
    assert spoken_ms("I'm home. Welcome back.", 5.0) == 1000 + 120


def test_cues_pair_with_the_lines_they_translate() -> None:
    lines = [
        JaLine(1000, 2000, "一"),
        JaLine(2100, 3000, "二"),  # one cue carries lines 0 and 1
        JaLine(5000, 8000, "三"),  # two cues carry line 2
        JaLine(10000, 11000, "四"),  # no cue
    ]
    cues = [
        Cue(600, 3400, "One, two."),
        Cue(4700, 6400, "Three"),
        Cue(6400, 8500, "and on."),
        Cue(9000, 9900, "SIGN"),  # over no speech
    ]
    p = pair(lines, cues)
    assert p.groups == (((0, 1), (0,)), ((2,), (1, 2)))
    assert p.lonely_lines == (3,) and p.lonely_cues == (3,)


def test_a_cue_trailing_into_the_next_line_does_not_join_it() -> None:
    lines = [JaLine(1000, 3000, "一"), JaLine(3300, 6000, "二")]
    cues = [Cue(800, 3500, "One."), Cue(3300, 6300, "Two.")]
    assert pair(lines, cues).groups == (((0,), (0,)), ((1,), (1,)))


def test_by_subtitles_keeps_untranslated_lines_and_reports_lonely_cues() -> None:
    lines = [JaLine(1000, 2000, "ただいま", "A", (0,)), JaLine(4000, 5000, "え", "B", (1,))]
    t = by_subtitles(lines, [Cue(900, 2300, "I'm home."), Cue(7000, 8000, "SIGN")])
    assert [(x.en_text, x.source, x.speaker) for x in t.lines] == [
        ("I'm home.", "subtitles", "A"),
        ("", "", "B"),
    ]
    assert t.lines[1].note == "no subtitle cue covers this line"
    assert t.lines[0].spoken_ms == 400 and t.lines[0].fits
    assert t.unmatched_cues == (1,)


def test_a_line_takes_the_character_its_cues_name() -> None:
    lines = [JaLine(1000, 3000, "一", "S0", (0,)), JaLine(4000, 6000, "二", "S1", (1,))]
    cues = [Cue(900, 2000, "One,", actor="Aoi"), Cue(2000, 3200, "and one more.", actor="Kaito"),
            Cue(3900, 6100, "Two.")]  # fmt: skip
    t = by_subtitles(lines, cues)
    # The first line's cues name two characters: it is cut between them (halfway from Kaito's
    # cue start to Aoi's cue end), the segment going to the part it lies in most (the earlier
    # on a tie). The second line names nobody.
    got = [(x.start_ms, x.end_ms, x.character, x.ja_text, x.en_text) for x in t.lines]
    assert got == [(1000, 2000, "Aoi", "一", "One,"), (2000, 3000, "Kaito", "", "and one more."),
                   (4000, 6000, "", "二", "Two.")]  # fmt: skip
    doc = json.loads(dumps(t, "subtitles"))
    assert doc["lines"][0]["character"] == "Aoi" and "character" not in doc["lines"][2]
    # Cues of one name with unnamed ones among them: one line, that name.
    one = by_subtitles(lines[:1], [Cue(900, 2000, "One,", actor="Aoi"), Cue(2000, 3200, "more.")])
    assert [(x.character, x.en_text) for x in one.lines] == [("Aoi", "One, more.")]
    back = [Cue(900, 1500, "A,"), Cue(1500, 2200, "b,", actor="Aoi"), Cue(2200, 2600, "c,"),
            Cue(2600, 3200, "d.", actor="Aoi")]  # fmt: skip
    assert [(x.character, x.en_text) for x in by_subtitles(lines[:1], back).lines] == [
        ("Aoi", "A, b, c, d.")
    ]


def test_subtitles_whose_cues_do_not_follow_the_speech_are_refused() -> None:
    # Lines of 1.5-2.7 s every 3.2 s; their own cues show 300 ms early and stay 400 ms late.
    lines = [JaLine(3200 * k, 3200 * k + 1500 + 300 * (k % 5), "あ") for k in range(20)]
    own = [Cue(max(0, x.start_ms - 300), x.end_ms + 400, "Yes.") for x in lines]
    assert len(by_subtitles(lines, own).lines) == 20
    # Another episode's cues: the same kind of timing on other speech, 1.1 s later here.
    other = [Cue(c.start_ms + 1100, c.end_ms + 1100, c.text) for c in own]
    with pytest.raises(TranslationInputError, match="do not follow the Japanese speech"):
        by_subtitles(lines, other)
    # A few cues say too little to judge.
    assert by_subtitles(lines[:5], other[:5]).lines


def test_subtitles_of_another_stretch_are_refused() -> None:
    with pytest.raises(TranslationInputError, match="none of the 1 subtitle cues"):
        by_subtitles([JaLine(1000, 2000, "あ")], [Cue(50_000, 52_000, "Hi.")])


def test_a_translator_answer_that_is_not_english_fails() -> None:
    lines = [JaLine(0, 1000, "ただいま")]
    ok = by_translator(lines, lambda ls, bs: [("I'm home.", 2)], "openai")
    assert ok.lines[0].attempts == 2 and ok.lines[0].source == "openai"
    with pytest.raises(TranslationInputError, match="not English"):
        by_translator(lines, lambda ls, bs: [("ただいま", 1)], "openai")
    with pytest.raises(TranslationInputError, match="not English \\(no words\\)"):
        by_translator(lines, lambda ls, bs: [("", 1)], "openai")
    assert not_english("Café, naïve!") is None


def test_a_segment_two_speakers_say_is_split_where_the_speaker_changes() -> None:
    segments = [(1000, 4000, "後ろだ振り向けうるさい")]
    words = {0: [(1000, 1500, "後ろだ"), (1500, 2500, "振り向け"), (2600, 4000, "うるさい")]}
    turns = [(900, 2550, "A"), (2550, 4100, "B")]
    lines = ja_lines(segments, turns, words)
    assert [(x.start_ms, x.end_ms, x.text, x.speaker) for x in lines] == [
        (1000, 2500, "後ろだ振り向け", "A"),
        (2600, 4000, "うるさい", "B"),
    ]
    # A word or two of another speaker (under 400 ms) is the diarization's edge, not a line.
    brief = [(900, 1450, "A"), (1450, 1550, "B"), (1550, 4100, "A")]
    words = {0: [(1000, 1400, "後ろだ"), (1460, 1540, "ね"), (1600, 4000, "振り向け")]}
    assert [x.speaker for x in ja_lines(segments, brief, words)] == ["A"]
