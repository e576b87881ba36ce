"""Scoring an automatic dub against the human one: the pure parts, on hand-made reports and the
fake episode's truth (no video, no models)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dubset_eval.discover import discover
from dubset_eval.dubaudio import Track, UnavailableError, pick_tracks
from dubset_eval.dubreport import DubLine, dubbed_video, parse_dub_report
from dubset_eval.dubscore import (
    cut,
    dialogue_kept_db,
    human_span,
    lag_samples,
    match_lines,
    quiet_mask,
    shift,
    speech_spans,
    tile_to,
    timing,
    voices,
)
from dubset_eval.evaluate import evaluate
from dubset_eval.fields import FieldError
from dubset_eval.report import to_json, to_text
from dubset_eval.truth import Truth, parse_truth
from tests.unit.eval.episode import truth_value, write_json, write_truth

# The fake episode (ja_offset_ms 1500), its human dub moved about: on the JA timeline the human
# lines are S0 2600-4400, S1 4550-6800 and S0 10400-11500 (JA lines 2500-4500, 4550-6500,
# 10500-11500).
HUMAN_EN = [(1100, 2900), (3050, 5300), (8900, 10000)]


def _truth_value() -> dict[str, Any]:
    value: dict[str, Any] = copy.deepcopy(truth_value())
    for line, (start, end) in zip(value["lines"], HUMAN_EN, strict=True):
        line["en"]["start_ms"], line["en"]["end_ms"] = start, end
    return value


@pytest.fixture
def truth() -> Truth:
    return parse_truth(_truth_value(), Path("/x/truth.json"))


def _line(
    index: int, ja: tuple[int, int], at: tuple[int, int], voice: str, text: str = "Hello there."
) -> dict[str, object]:
    return {"index": index, "speaker": f"SPEAKER_0{index}", "voice": voice, "ja_text": "…",
            "en_text": text, "ja_start_ms": ja[0], "ja_end_ms": ja[1], "start_ms": at[0],
            "end_ms": at[1], "start_offset_ms": at[0] - ja[0], "stretch": 1.0, "fits": True,
            "over_ms": 0}  # fmt: skip


def _report(*lines: dict[str, object]) -> dict[str, object]:
    return {"format": "dubset-dub-report/1", "container": "mkv",
            "levels": {"bed": "separated"}, "lines": list(lines), "unfit": []}  # fmt: skip


JOE = "piper:joe+f0=180Hz,formant=1.05"
KAL = "festival:kal"
REPORT = _report(
    # S0's first line, 100 ms after the human's start and 300 ms past its end
    _line(0, (2500, 4500), (2700, 4700), JOE, "The cat sat."),
    # S1's line (over 50 ms of S0's too: S1's overlaps most), 100 ms early, ends with it
    _line(1, (4450, 6500), (4450, 6800), KAL, "I have three apples."),
    # S0's last line in S1's voice: 600 ms late, 100 ms short
    _line(2, (10500, 11500), (11000, 11400), KAL + "+f0=200Hz,formant=1", "Goodbye."),
    # over no truth line at all
    _line(3, (20000, 21000), (20000, 21000), JOE, "Nobody."),
)


def test_the_report_is_parsed_in_time_order_with_voice_bases() -> None:
    lines = parse_dub_report(_report(REPORT["lines"][2], REPORT["lines"][0])).lines  # type: ignore[index]
    assert [x.index for x in lines] == [0, 2]
    assert [x.voice_base for x in lines] == ["piper:joe", "festival:kal"]
    variant = DubLine(0, "S", "espeak-ng:en-us+f4+f0=293Hz,formant=1.13", "", 0, 1, 0, 1)
    assert variant.voice_base == "espeak-ng:en-us+f4"  # espeak-ng's own variant is a voice


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"format": "dubset-dub-report/2"}, "format"),
     ({"lines": [{"index": 0}]}, "lines[0]: missing 'ja_start_ms'"),
     ({"lines": [_line(0, (10, 5), (0, 1), JOE)]}, "ja_end_ms 5 is before ja_start_ms 10")],
)  # fmt: skip
def test_a_malformed_report_names_the_field(change: dict[str, object], reason: str) -> None:
    with pytest.raises(FieldError, match=re.escape(reason)):
        parse_dub_report({**REPORT, **change})


def test_the_video_is_found_beside_the_report(tmp_path: Path) -> None:
    report = tmp_path / "ep.dubbed.report.json"
    assert dubbed_video(report, "mkv") is None
    (tmp_path / "ep.dubbed.mp4").write_bytes(b"x")
    assert dubbed_video(report, "mkv") == tmp_path / "ep.dubbed.mp4"
    (tmp_path / "ep.dubbed.mkv").write_bytes(b"x")
    assert dubbed_video(report, "mkv") == tmp_path / "ep.dubbed.mkv"


def test_each_line_is_scored_against_the_human_line_of_its_japanese_line(truth: Truth) -> None:
    lines = parse_dub_report(REPORT).lines
    matches = match_lines(lines, truth)
    assert [(m.line.index, m.truth.index) for m in matches] == [(0, 0), (1, 1), (2, 2)]
    assert [(m.human_start_ms, m.human_end_ms) for m in matches] == [
        (2600, 4400), (4550, 6800), (10400, 11500)]  # fmt: skip
    t = timing(len(lines), matches)
    assert (t.lines, t.matched, t.matched_share) == (4, 3, 0.75)
    assert t.start_errors_ms == (100, -100, 600)
    assert t.end_errors_ms == (300, 0, -100)
    assert t.start_p50_ms == 100 and t.start_p95_ms == pytest.approx(550)  # 100 + 0.9 * 500
    assert t.end_p50_ms == 100 and t.end_p95_ms == pytest.approx(280)
    assert t.start_median_signed_ms == 100
    # lengths 2000/1800, 2350/2250, 400/1100
    assert t.rate_ratios == pytest.approx((2000 / 1800, 2350 / 2250, 400 / 1100))
    assert t.rate_median == pytest.approx(2350 / 2250)


def test_no_lines_no_figures(truth: Truth) -> None:
    t = timing(0, match_lines((), truth))
    assert (t.matched_share, t.start_p50_ms, t.end_p95_ms, t.rate_median) == (None,) * 4


def test_the_human_line_goes_through_the_time_map_of_an_edited_release() -> None:
    value = _truth_value()
    # EN 25/24 as fast from EN 0 = JA 1500 (the fake's pal-like release)
    value["time_map"] = {"pieces": [{"ja_start_ms": 1500, "ja_end_ms": 13500,
                                     "en_start_ms": 0, "en_end_ms": 11520}],
                         "ja_only": [[0, 1500]], "en_only": []}  # fmt: skip
    truth = parse_truth(value, Path("/x/truth.json"))
    start, end = human_span(truth, truth.lines[2]) or (0.0, 0.0)
    assert start == pytest.approx(1500 + 8900 * 25 / 24)
    assert end == pytest.approx(1500 + 9999 * 25 / 24 + 1)  # its last moment, mapped
    value["time_map"]["pieces"][0]["en_end_ms"] = 9500  # EN 10000 is past the map
    assert human_span(parse_truth(value, Path("/x/truth.json")), truth.lines[2]) is None


def test_voices_shared_by_characters_and_characters_split_over_voices(truth: Truth) -> None:
    lines = parse_dub_report(REPORT).lines
    v = voices(truth, lines, match_lines(lines, truth))
    assert (v.characters, v.voices) == (2, 2)
    assert v.shared == (("festival:kal", ("Aoi", "Ren")),)
    assert v.split == (("Aoi", ("festival:kal", "piper:joe")),)
    one_each = lines[:2]
    v = voices(truth, one_each, match_lines(one_each, truth))
    assert (v.voices, v.shared, v.split) == (2, (), ())


def test_the_bed_is_scored_away_from_every_line_by_300_ms(truth: Truth) -> None:
    quiet = quiet_mask(20, 1000, [(5, 7), (15, 15)], pad_ms=2)
    assert np.flatnonzero(~quiet).tolist() == [3, 4, 5, 6, 7, 8, 13, 14, 15, 16]
    lines = parse_dub_report(REPORT).lines
    spans = speech_spans(truth, lines)
    # the truth's JA lines, the human lines on the JA timeline, the dubbed lines
    assert (2500, 4500) in spans and (2600, 4400) in spans and (11000, 11400) in spans
    mask = quiet_mask(24000, 1000, spans)
    assert mask[:2200].all() and not mask[2200:7100].any() and mask[7100:10100].all()
    assert not mask[20000:21000].any() and mask[21300:].all()


def test_the_lag_of_a_delayed_track_is_found_and_taken_out() -> None:
    rng = np.random.default_rng(5)
    reference = rng.standard_normal(8000)
    late = np.concatenate([np.zeros(1024), reference])[:8000]
    assert lag_samples(late, reference, 2000) == 1024
    assert lag_samples(reference, late, 2000) == -1024
    assert np.array_equal(shift(late, 1024), reference[: 8000 - 1024])
    assert np.array_equal(shift(reference, -3)[:3], np.zeros(3))
    assert lag_samples(late, reference, 500) != 1024  # outside the window searched


def test_the_japanese_dialogue_kept_in_a_track_against_the_backing_kept() -> None:
    rng = np.random.default_rng(9)
    backing, dialogue, speech = rng.standard_normal((3, 48000))
    assert dialogue_kept_db(backing + dialogue, backing, dialogue) == pytest.approx(0, abs=1e-9)
    bed = 0.5 * backing + 0.05 * dialogue  # a tenth of the dialogue's share left
    # the dub's own speech, unrelated to either stem, barely moves the fit
    assert dialogue_kept_db(bed + speech, backing, dialogue) == pytest.approx(-20, abs=1.5)
    assert dialogue_kept_db(bed, backing, np.zeros(48000)) is None  # no dialogue to find
    assert dialogue_kept_db(dialogue, np.zeros(48000), dialogue) is None


def test_cut_and_tile() -> None:
    track = np.arange(10, dtype=np.float64)
    assert cut(track, 1000, [(1, 3), (5, 6), (8, 20)], 0.004).tolist() == [1, 2, 5, 8]
    assert cut(track, 1000, [], 1).size == 0
    assert tile_to(np.array([1.0, 2.0]), 5).tolist() == [1, 2, 1, 2, 1]
    assert tile_to(track, 3) is track


def test_the_english_track_is_the_automatic_dub() -> None:
    tracks = [Track(0, "jpn", ""), Track(1, "eng", "English 2.0"),
              Track(2, "eng", "English (automatic dub)")]  # fmt: skip
    assert pick_tracks(tracks) == (tracks[0], tracks[2])
    assert pick_tracks([Track(0, "und", ""), Track(1, "eng", "")]) == (
        Track(0, "und", ""), Track(1, "eng", ""))  # fmt: skip
    with pytest.raises(UnavailableError, match="no English"):
        pick_tracks([Track(0, "jpn", "")])


def test_a_report_without_its_video_is_scored_from_the_report_alone(tmp_path: Path) -> None:
    truth = write_truth(tmp_path / "truth")
    write_json(truth, _truth_value())
    result = write_json(tmp_path / "out" / "ep.dubbed.report.json", REPORT)
    found = discover(tmp_path / "out")
    assert [(f.kind, f.path) for f in found.found] == [("dub", result)]
    for where in (result, tmp_path / "out"):
        report = evaluate(truth, where)
        (row,) = report.dub
        assert (row.source, row.timing.matched, row.wer, row.bed) == (
            "ep.dubbed.report.json", 3, None, None)  # fmt: skip
        assert report.notes == ("ep.dubbed.report.json: no dubbed .mkv or .mp4 beside the "
                                "report: no audio scores",)  # fmt: skip
        assert report.scored == 1
    text = to_text(report)
    assert "Dub timing" in text and "Dub audio" in text
    assert "shared voice: ep.dubbed.report.json: festival:kal: Aoi, Ren" in text
    (dub,) = to_json(report)["dub"]  # type: ignore[misc]
    assert dub["start_p50_error_ms"] == 100 and dub["matched"] == 3
    assert dub["shared_voices"] == {"festival:kal": ["Aoi", "Ren"]}
    assert dub["rerecognition"] is None and dub["bed"] is None


def test_a_malformed_dub_report_is_a_problem(tmp_path: Path) -> None:
    truth = write_truth(tmp_path / "truth")
    write_json(tmp_path / "out" / "ep.report.json", {**REPORT, "lines": [{"index": 0}]})
    report = evaluate(truth, tmp_path / "out")
    assert report.dub == () and report.problems == (
        "ep.report.json: lines[0]: missing 'ja_start_ms'",)  # fmt: skip
