"""Subtitle-sourced transcripts: segment edge errors per source, speaker names and the release's
own cues, every figure worked out by hand from the fake episode's truth lines:

    0  S0 (Aoi)  en 1000-3000   ja 2500-4500
    1  S1 (Ren)  en 3050-5000   ja 4550-6500
    2  S0 (Aoi)  en 9000-10000  ja 10500-11500
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubset_common.subtitles import Cue, to_ass
from dubset_eval.evaluate import evaluate
from dubset_eval.report import Report, SubtitleRow, to_json, to_text
from dubset_eval.subtiming import SubSegment, parse_subtitle_segments, score_timing
from dubset_eval.truth import load_truth, parse_truth
from tests.unit.eval.episode import truth_value, write_json

ALIGNED, CUE = "subtitle-aligned", "subtitle-cue"

# EN transcript: line 0 aligned 40 ms late / 20 ms early, named right; line 1 kept its cue's
# times (250 ms early, 600 ms late) and names the wrong character; line 2 aligned exactly,
# unnamed; and one aligned segment where nobody speaks (matches no line).
EN_SEGMENTS = [
    (1040, 2980, "The cat sat on the mat.", ALIGNED, "Aoi"),
    (2800, 5600, "I have 3 apples!", CUE, "Aoi"),
    (9000, 10000, "Goodbye.", ALIGNED, ""),
    (20000, 21000, "Hm.", ALIGNED, "Ren"),
]
# The release's en.ass: each cue 300/10/400 ms before its line, 40/500/600 ms after it.
EN_CUES = [
    Cue(700, 3040, "The cat sat on the mat.", "Aoi"),
    Cue(3040, 5500, "I have 3 apples!", "Ren"),
    Cue(8600, 10600, "Goodbye.", "Aoi"),
]


def transcript(language: str, rows: list[tuple[int, int, str, str, str]]) -> dict[str, object]:
    value: dict[str, object] = {
        "language": language,
        "source": "subtitles",
        "segments": [{"start_ms": s, "end_ms": e, "text": t} for s, e, t, _, _ in rows],
        "segment_sources": [src for *_, src, _ in rows],
        "segment_reasons": [
            "" if src == ALIGNED else "no words were aligned" for *_, src, _ in rows
        ],
    }
    if any(spk for *_, spk in rows):
        value["segment_speakers"] = [spk for *_, spk in rows]
    return value


def subtitled_truth(folder: Path, files: list[dict[str, object]]) -> Path:
    value = truth_value()
    value["release"] = {"subtitles": {"lead_ms": [150, 450], "files": files, "streams": []}}
    (folder / "en.ass").parent.mkdir(parents=True, exist_ok=True)
    (folder / "en.ass").write_text(to_ass(EN_CUES, "Fake Show (English)"), encoding="utf-8")
    return write_json(folder / "truth.json", value)


EN_ASS = {"file": "en.ass", "format": "ass", "lang": "en", "video": "en.mp4", "lines": [0, 1, 2]}
JA_SRT = {"file": "ja.srt", "format": "srt", "lang": "ja", "video": "ja.mp4", "lines": [0, 1, 2]}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    root = tmp_path_factory.mktemp("subs")
    truth = subtitled_truth(root / "truth", [EN_ASS, JA_SRT])  # ja.srt is not there
    write_json(root / "result" / "asr" / "en" / "transcript.json", transcript("en", EN_SEGMENTS))
    # JA on the JA video's timeline, not moved by ja_offset_ms (1500): 30 ms late, then exact.
    ja = [
        (2530, 4500, "今日は良い天気です。", ALIGNED, ""),
        (10500, 11500, "さようなら。", CUE, ""),
    ]
    write_json(root / "result" / "asr" / "ja" / "transcript.json", transcript("ja", ja))
    # A recognised transcript gets no subtitle rows.
    recognised = {"language": "en", "segments": [{"start_ms": 0, "end_ms": 9, "text": "x"}]}
    write_json(root / "result" / "asr" / "plain" / "en.json", recognised)
    return evaluate(truth, root / "result")


def rows(report: Report, language: str) -> dict[str, SubtitleRow]:
    return {r.kind: r for r in report.subtitles if r.language == language}


def test_aligned_cue_and_all(report: Report) -> None:
    en = rows(report, "en")
    assert list(en) == [ALIGNED, CUE, "all", "raw-cues"]
    assert {r.source for r in en.values()} == {"asr/en/transcript.json"}
    # Aligned: 3 segments, the one in silence unmatched; starts (40, 0), ends (20, 0).
    a = en[ALIGNED].score
    assert (a.segments, a.matched, a.start_errors_ms, a.end_errors_ms) == (3, 2, (40, 0), (20, 0))
    assert (a.start_p50_ms, a.start_p95_ms, a.end_p50_ms, a.end_p95_ms) == (20, 38, 10, 19)
    # Only the matched, named segment counts for speakers ("Ren" in silence does not).
    assert (a.named, a.named_right, a.speaker_accuracy) == (1, 1, 1.0)
    # The cue-kept segment overlaps line 0 by 200 ms and line 1 by 1950 ms: line 1.
    c = en[CUE].score
    assert (c.segments, c.matched, c.start_errors_ms, c.end_errors_ms) == (1, 1, (250,), (600,))
    assert (c.named, c.named_right, c.speaker_accuracy) == (1, 0, 0.0)
    # All: starts 0, 40, 250 -> p50 40, p95 40 + 0.9 * 210; ends 0, 20, 600 -> 20, 20 + 0.9 * 580.
    s = en["all"].score
    assert (s.segments, s.matched) == (4, 3)
    assert s.start_p50_ms == 40 and s.start_p95_ms == pytest.approx(229)
    assert s.end_p50_ms == 20 and s.end_p95_ms == pytest.approx(542)
    assert (s.named, s.named_right, s.speaker_accuracy) == (2, 1, 0.5)
    # Both edges together: 0, 0, 20, 40, 250, 600.
    assert s.edge_p50_ms == 30


def test_raw_cues_of_the_release(report: Report) -> None:
    raw = rows(report, "en")["raw-cues"]
    assert raw.cue_file == "en.ass"
    s = raw.score
    assert (s.segments, s.matched) == (3, 3)
    assert (s.start_errors_ms, s.end_errors_ms) == ((300, 10, 400), (40, 500, 600))
    assert (s.start_p50_ms, s.end_p50_ms, s.speaker_accuracy) == (300, 500, 1.0)


def test_each_language_on_its_own_timeline(report: Report) -> None:
    ja = rows(report, "ja")
    # ja.srt is listed but missing: no raw row, a note (not a defect).
    assert list(ja) == [ALIGNED, CUE, "all"]
    assert ja["all"].score.start_errors_ms == (30, 0)
    assert ja["all"].score.end_errors_ms == (0, 0)
    assert ja["all"].score.speaker_accuracy is None  # the transcript names nobody
    assert ja[CUE].score.matched == 1
    assert any(
        "truth subtitles" in n and n.endswith("ja.srt: No such file or directory")
        for n in report.notes
    )
    assert report.defects == 0


def test_text_and_json(report: Report) -> None:
    text = to_text(report)
    assert "\nSubtitle timing (" in text
    cells = [ln.split() for ln in text.splitlines() if ln.startswith("  asr/en/transcript.json")]
    # the ASR row, then aligned, cue, all, raw cues
    assert cells[1] == [
        "asr/en/transcript.json",
        "en",
        "aligned",
        "3",
        "2",
        "20",
        "38",
        "10",
        "19",
        "100.0%",
    ]
    assert cells[2][2:] == ["cue", "1", "1", "250", "250", "600", "600", "0.0%"]
    assert cells[4][2:5] == ["raw", "cues", "3"]
    assert max(len(ln) for ln in text.splitlines() if ln.startswith("  ")) <= 100
    value = to_json(report)
    assert json.loads(json.dumps(value)) == value
    timing = value["subtitle_timing"]
    assert isinstance(timing, list)
    first = timing[0]
    assert first["segments"] == ALIGNED and first["cue_file"] is None
    assert (first["n_segments"], first["matched"], first["speakers_named"]) == (3, 2, 1)
    assert first["start_p95_error_ms"] == 38.0
    assert timing[3]["cue_file"] == "en.ass"
    # Subtitle rows are more about ASR results already counted: 3 ASR rows scored.
    assert report.scored == 3


def test_no_table_without_subtitle_transcripts(tmp_path: Path) -> None:
    truth = write_json(tmp_path / "truth" / "truth.json", truth_value())
    segments = [{"start_ms": 1000, "end_ms": 3000, "text": "The cat sat on the mat."}]
    write_json(tmp_path / "r" / "en.json", {"language": "en", "segments": segments})
    report = evaluate(truth, tmp_path / "r")
    assert report.subtitles == ()
    assert "Subtitle timing" not in to_text(report)


def test_cues_of_another_video_are_not_compared(tmp_path: Path) -> None:
    # episode.truth.json's EN times are the MKV's; en.ass stays on en.mp4's timeline.
    truth = load_truth(subtitled_truth(tmp_path, [{**EN_ASS, "video": "episode.mkv"}]))
    assert truth.cue_file("en") is None
    truth = load_truth(subtitled_truth(tmp_path, [EN_ASS]))
    cue_file = truth.cue_file("en")
    assert cue_file is not None and cue_file.path == tmp_path / "en.ass"
    assert (truth.name("S1"), truth.name("S9")) == ("Ren", "S9")


def test_lists_must_match_the_segments(tmp_path: Path) -> None:
    truth = write_json(tmp_path / "truth" / "truth.json", truth_value())
    value = transcript("en", EN_SEGMENTS)
    value["segment_speakers"] = ["Aoi"]
    write_json(tmp_path / "r" / "en.json", value)
    report = evaluate(truth, tmp_path / "r")
    assert report.problems == ("en.json: segment_speakers: 1 entries for 4 segments",)
    assert parse_subtitle_segments({"source": "whisper", "segments": []}) is None


def test_names_compare_without_case_or_spaces() -> None:
    truth = parse_truth(truth_value(), Path("/nonexistent/truth.json"))
    segments = [SubSegment(1000, 3000, ALIGNED, " aoi "), SubSegment(3050, 5000, CUE, "S1")]
    score = score_timing(segments, truth.spoken("en"), truth.name)
    # "S1" is the id, not the name the subtitles give (Ren): wrong.
    assert (score.named, score.named_right) == (2, 1)
