"""The whole scoring of a fake episode's result tree, with every number worked out by hand."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from dubset_eval.errors import EvalInputError
from dubset_eval.evaluate import evaluate
from dubset_eval.report import Report, short_source, to_json, to_text
from tests.unit.eval.episode import write_json, write_results, write_truth


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("episode")
    return write_truth(root / "truth"), write_results(root / "result")


@pytest.fixture(scope="module")
def report(episode: tuple[Path, Path]) -> Report:
    return evaluate(*episode)


def test_asr(report: Report) -> None:
    rows = {(r.source, r.language): r for r in report.asr}
    # EN reference: the cat sat on the mat | i have three apples | goodbye (11 words);
    # hypothesis segments come unsorted and say "sit" and drop the second "the": 1 S + 1 D.
    en = rows["asr/en/segments.json", "en"]
    assert (en.metric, en.counts.n_ref, en.counts.substitutions, en.counts.deletions) == (
        "WER",
        11,
        1,
        1,
    )
    assert en.counts.rate == pytest.approx(2 / 11)
    # JA reference: 今日は良い天気です りんごが三つある さようなら (9 + 8 + 5 characters);
    # 良->悪, す->し and an inserted た: 3 / 22.
    ja = rows["asr/ja/segments.json", "ja"]
    assert (ja.metric, ja.counts.n_ref, ja.counts.errors) == ("CER", 22, 3)
    assert ja.counts.rate == pytest.approx(3 / 22)
    # The dataset's clip texts are exact.
    assert rows["dataset/anim400k_annotations.json", "en"].counts.errors == 0
    assert rows["dataset/anim400k_annotations.json", "ja"].counts.errors == 0


def test_diarization(report: Report) -> None:
    rows = {r.language: r.score for r in report.diarization}
    # EN: labels renamed, times exact.
    assert rows["en"].der == 0.0
    assert rows["en"].mapping == (("spk_0", "S1"), ("spk_1", "S0"))
    # JA lines: S0 2500-4500, S1 4550-6500, S0 10500-11500. Collars remove
    # [2250,2750] [4250,4800] [6250,6750] [10250,10750] [11250,11750]; scored speech:
    # S0 [2750,4250] 1500 + S1 [4800,6250] 1450 + S0 [10750,11250] 500 = 3450.
    # Hypothesis "0" covers 2500-6500 and "1" 10500-11500. Mapping "0"->S1, "1"->S0
    # (1450 + 500 = 1950) beats "0"->S0 (1500 + 0), so S0's first line is confusion.
    ja = rows["ja"]
    assert (ja.reference_ms, ja.miss_ms, ja.false_alarm_ms, ja.confusion_ms) == (3450, 0, 0, 1500)
    assert ja.der == pytest.approx(1500 / 3450)
    assert ja.mapping == (("0", "S1"), ("1", "S0"))
    assert ja.speaker_count_error == 0


def test_separation(report: Report) -> None:
    rows = {(r.language, r.stem): r for r in report.separation}
    # Dialogue 0.5 sin(200 Hz), backing 0.25 sin(300 Hz), orthogonal, mix = their sum.
    mix_db = 10 * math.log10(0.5**2 / 0.25**2)
    # JA dialogue estimate adds 0.05 sin(500 Hz): 10 log10(0.25 / 0.0025) = 20 dB.
    ja_d = rows["ja", "dialogue"]
    assert ja_d.source == "stages/separation/k1/dialogue.wav"
    assert ja_d.si_sdr_db == pytest.approx(20.0, abs=1e-6)
    assert ja_d.mixture_si_sdr_db == pytest.approx(mix_db, abs=1e-6)
    assert ja_d.improvement_db == pytest.approx(20.0 - mix_db, abs=1e-6)
    # JA backing estimate: stereo at 16 kHz, resampled to 8 kHz; 0.025 sin(500 Hz) added.
    ja_b = rows["ja", "backing"]
    assert ja_b.si_sdr_db == pytest.approx(20.0, abs=0.05)
    assert ja_b.mixture_si_sdr_db == pytest.approx(-mix_db, abs=1e-6)
    assert ja_b.seconds == pytest.approx(1.0)
    # EN dialogue estimate is the clean stem itself.
    assert rows["en", "dialogue"].si_sdr_db is not None
    assert rows["en", "dialogue"].si_sdr_db > 90


def test_clips_and_offset(report: Report) -> None:
    rows = {r.source: r.score for r in report.clips}
    al = rows["align/clips.json"]
    # Two of three result clips match the two truth pairs.
    assert al.matches == ((0, 0), (1, 1))
    assert (al.precision, al.recall) == pytest.approx((2 / 3, 1.0))
    assert al.f1 == pytest.approx(0.8)
    # Errors: clip 0 ja 20, 0, en 10, 20; clip 1 ja 0, 100, en 0, 0 -> sorted
    # 0 0 0 0 10 20 20 100: median 5; p95 rank 6.65 -> 20 + 0.65 * 80 = 72.
    assert al.median_boundary_error_ms == pytest.approx(5.0)
    assert al.p95_boundary_error_ms == pytest.approx(72.0)
    # Clip offsets 2480 - 1010 = 1470 and 1500 against the truth's 1500 and 1500.
    assert al.offset_errors_ms == (30, 0)
    ds = rows["dataset/anim400k_annotations.json"]
    assert (ds.precision, ds.recall, ds.p95_boundary_error_ms) == (1.0, 1.0, 0.0)
    assert [(o.source, o.error_ms) for o in report.offsets] == [("media/offset.json", 20)]


def test_completeness(report: Report) -> None:
    rows = {r.source: r.result for r in report.completeness}
    assert rows["stages/separation/k1/_manifest.json"].listed == 2
    assert rows["dataset/manifest.jsonl"].listed == 8
    assert report.defects == 0
    assert report.problems == ()


def test_text_and_json(report: Report) -> None:
    text = to_text(report)
    lines = {ln.split()[0]: ln.split() for ln in text.splitlines() if ln.startswith("  ")}
    en = ["asr/en/segments.json", "en", "WER", "18.18%", "11", "10", "1", "1", "0"]
    assert lines["asr/en/segments.json"] == en
    assert lines["diarization/ja.json"][:3] == ["diarization/ja.json", "ja", "43.48%"]
    # A bare offset is scored as a one-piece map: 20 ms off everywhere the truth maps.
    offset_row = ["media/offset.json", "1480", "1500", "20", "1", "20", "20", "100.0%"]
    assert lines["media/offset.json"] == offset_row
    assert text.endswith("14 results scored, 9 files ignored, 0 defects\n")
    value = to_json(report)
    assert json.loads(json.dumps(value)) == value
    assert value["defects"] == 0


def test_malformed_result_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    truth = write_truth(tmp_path / "truth")
    write_json(
        tmp_path / "r" / "en" / "diar.json",
        {"language": "en", "turns": [{"speaker": "a", "start_ms": 5, "end_ms": 1}]},
    )
    write_json(tmp_path / "r" / "ok.json", {"ja_offset_ms": 1500})
    r = evaluate(truth, tmp_path / "r")
    assert r.problems == ("en/diar.json: turns[0]: end_ms 1 is before start_ms 5",)
    assert r.defects == 1
    assert [o.error_ms for o in r.offsets] == [0]


def test_dataset_episode_must_be_found(tmp_path: Path) -> None:
    truth = write_truth(tmp_path / "truth")
    write_json(
        tmp_path / "ds" / "anim400k_annotations.json",
        {"train": [{"show": "Other", "episodes": {"1": {"clips": []}, "2": {"clips": []}}}]},
    )
    (tmp_path / "ds" / "manifest.jsonl").write_text("")
    r = evaluate(truth, tmp_path / "ds")
    assert "no episode of show 'Fake Show' numbered 1" in r.problems[0]


def test_bad_dataset_times_are_a_problem(tmp_path: Path) -> None:
    truth = write_truth(tmp_path / "truth")
    clip = {
        "jp_clip": "aa/x",
        "en_clip": "bb/y",
        "jp_text": "",
        "en_text": "",
        "jp_start_time": "00:00:02.5",
        "jp_end_time": "00:00:06.500",
        "en_start_time": "00:00:01.000",
        "en_end_time": "00:00:05.000",
        "speakers": [],
    }
    write_json(
        tmp_path / "ds" / "anim400k_annotations.json",
        {"test": [{"show": "Fake Show", "episodes": {"1": {"clips": [clip]}}}]},
    )
    r = evaluate(truth, tmp_path / "ds")
    assert any("jp_start_time: expected a time HH:MM:SS.mmm" in p for p in r.problems)
    assert any("manifest.jsonl" in p for p in r.problems)


def test_nothing_recognised(tmp_path: Path) -> None:
    truth = write_truth(tmp_path / "truth")
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "readme.txt").write_text("hi")
    with pytest.raises(EvalInputError, match="nothing recognised"):
        evaluate(truth, tmp_path / "r")
    # The truth's own folder holds nothing but the truth.
    with pytest.raises(EvalInputError, match="nothing recognised"):
        evaluate(truth, truth.parent)


def test_audio_over_four_hours_is_refused_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import soundfile as sf

    from dubset_eval import audio

    path = tmp_path / "long.wav"
    sf.write(path, np.zeros(1600, np.float32), 16000)
    monkeypatch.setattr(audio, "MAX_AUDIO_SECONDS", 0.05)
    with pytest.raises(ValueError, match="over the limit"):
        audio.read_mono(path, 16000)


@pytest.mark.parametrize(
    "source, width, short",
    [
        ("asr/en/segments.json", 30, "asr/en/segments.json"),
        (f"stages/asr/{'ab' * 32}/result.json", 30, "asr/abababab/result.json"),
        ("datasets/default/anim400k_annotations.json", 30, "…/anim400k_annotations.json"),
        ("datasets/default/anim400k_annotations.json", 40, "…/default/anim400k_annotations.json"),
        ("a/" + "b" * 40, 20, "a/bbbbbbb…bbbbbbbbbb"),
    ],
)
def test_table_sources_are_short(source: str, width: int, short: str) -> None:
    assert short_source(source, width) == short
    assert len(short) <= width


def test_tables_fit_100_columns_and_json_keeps_whole_paths(
    episode: tuple[Path, Path], tmp_path: Path
) -> None:
    truth, result = episode
    result = Path(shutil.copytree(result, tmp_path / "result"))
    key = "0123456789abcdef" * 4
    long = result / "stages" / "diarization" / key / "ja.json"
    long.parent.mkdir(parents=True)
    long.write_bytes((result / "diarization" / "ja.json").read_bytes())
    report = evaluate(truth, result)
    lines = to_text(report).splitlines()
    assert max(len(ln) for ln in lines if ln.startswith("  ")) <= 100
    assert any(ln.startswith("  diarization/01234567/ja.json  ja") for ln in lines)
    sources = {r["source"] for r in to_json(report)["diarization"]}  # type: ignore[index, union-attr]
    assert f"stages/diarization/{key}/ja.json" in sources
