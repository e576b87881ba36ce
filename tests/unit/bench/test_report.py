"""bench/report.py: the report's sections from benchmark outputs, its tables and its plot."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

import report

STAGES = {
    "episodes": [
        {
            "stages": [
                {"stage": "media", "language": "ja+en", "ok": True, "audio_s": 240.0,
                 "wall_s": 12.0, "cpu_s": 10.0, "rtf": 0.05, "peak_rss_mb": 120.0},
                {"stage": "asr", "language": "ja", "ok": True, "audio_s": 120.0,
                 "wall_s": 30.0, "cpu_s": 55.0, "rtf": 0.25, "peak_rss_mb": 900.0},
                {"stage": "asr", "language": "en", "ok": False, "audio_s": 120.0,
                 "wall_s": 1.0, "cpu_s": 1.0, "rtf": None, "peak_rss_mb": 50.0},
            ]
        }
    ],
    "librivox": None,
}  # fmt: skip


def _task(compute: float) -> dict[str, object]:
    return {"compute_s": compute, "handoff_s": 0.1, "backend": "x", "reused": False}


def _runs() -> list[dict[str, object]]:
    single = {"handoff": {"p50": 0.05, "p99": 0.4}, "handoff_share": 0.02,
              "transport_share": 0.01, "idle_share": 0.1, "clips": 7}  # fmt: skip
    return [
        {"mode": "embedded", "seconds": 120.0, "rtf": 0.5, "wall_s": 60.0} | single,
        {"mode": "distributed", "seconds": 120.0, "rtf": 0.6, "wall_s": 72.0,
         "tasks": {"asr.ja": _task(24.0), "media": _task(6.0)},
         "peak_rss_mb": {"asr-worker": 950.0, "jobs-server": 80.0}} | single,
        {"mode": "throughput", "workers_per_stage": 2, "episodes": 4, "episode_seconds": 30.0,
         "episodes_per_hour": 150.0, "handoff": {"p50": 0.2, "p99": 3.0},
         "transport": {"p50": 0.04, "p99": 0.3}},
        {"mode": "throughput", "workers_per_stage": 1, "episodes": 4, "episode_seconds": 30.0,
         "episodes_per_hour": 100.0},
    ]  # fmt: skip


PUBLISHED = [
    {"tool": "faster-whisper", "model": "small", "hardware": "8 threads", "audio_s": 600.0,
     "time_s": 60.0, "same_model": False, "ours": {"stage": "asr", "language": "ja"}},
    {"tool": "pyannote", "model": "3.1", "hardware": "V100", "rtf": 0.025},
]  # fmt: skip


def test_build_derives_every_section() -> None:
    built = report.build(STAGES, _runs(), PUBLISHED)
    assert built["format"] == report.FORMAT and built["missing"] == []
    assert [(r["stage"], r["language"]) for r in built["stages"]] == [
        ("media", "ja+en"),
        ("asr", "ja"),
    ]  # the failed stage is left out
    pipe = {r["task"]: r for r in built["pipeline_stages"]}
    assert pipe["asr.ja"]["rtf"] == 0.2 and pipe["asr.ja"]["service_peak_rss_mb"] == 950.0
    assert pipe["media"]["service_peak_rss_mb"] is None
    assert pipe["jobs (orchestration)"]["service_peak_rss_mb"] == 80.0
    assert [r["mode"] for r in built["end_to_end"]] == ["embedded", "distributed"]
    assert built["end_to_end"][1]["handoff_p99_s"] == 0.4
    thr = built["throughput"]
    assert [r["workers_per_stage"] for r in thr] == [1, 2]
    assert thr[0]["speedup_vs_1"] == 1.0 and thr[1]["speedup_vs_1"] == 1.5
    assert thr[1]["transport_p99_s"] == 0.3 and thr[0]["handoff_p50_s"] is None
    fw, pa = built["published"]
    assert fw["rtf"] == 0.1 and fw["ours_rtf"] == 0.25
    assert pa["rtf"] == 0.025 and "ours_rtf" not in pa


def test_missing_inputs_are_named() -> None:
    built = report.build(None, [], [])
    assert built["missing"] == ["stages", "pipeline_stages", "end_to_end", "throughput"]
    assert "missing: stages" in report.markdown(built)


def test_newest_file_wins_for_the_same_run(tmp_path: Path) -> None:
    old, new = tmp_path / "pipeline.json", tmp_path / "pipeline_24min.json"
    old.write_text(json.dumps([{"mode": "embedded", "seconds": 120.0, "rtf": 0.9},
                               {"mode": "embedded", "seconds": 1440.0, "rtf": 0.8}]))  # fmt: skip
    new.write_text(json.dumps([{"mode": "embedded", "seconds": 120.0, "rtf": 0.5}]))
    os.utime(old, (1, 1))
    runs = report.load_runs([old, new])
    assert [(r["seconds"], r["rtf"], r["source"]) for r in runs] == [
        (120.0, 0.5, "pipeline_24min.json"),
        (1440.0, 0.8, "pipeline.json"),
    ]


def test_main_writes_json_plot_and_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stages, pipeline, published = tmp_path / "s.json", tmp_path / "p.json", tmp_path / "f.json"
    stages.write_text(json.dumps(STAGES))
    pipeline.write_text(json.dumps(_runs()))
    published.write_text(json.dumps(PUBLISHED))
    out, png = tmp_path / "report.json", tmp_path / "report.png"
    argv = ["--stages", str(stages), "--pipeline", str(pipeline), "--published", str(published),
            "--out", str(out), "--plot", str(png)]  # fmt: skip
    assert report.main(argv) == 0
    assert json.loads(out.read_text())["throughput"][1]["episodes_per_hour"] == 150.0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    text = capsys.readouterr().out
    assert "### End to end" in text and "| distributed | 120 |" in text
    # Nothing measured yet: still a report and a plot, naming what is missing.
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    none = str(tmp_path / "none")
    argv = ["--stages", none, "--pipeline", str(empty), "--published", none,
            "--out", str(out), "--plot", str(png)]  # fmt: skip
    assert report.main(argv) == 0
    assert json.loads(out.read_text())["missing"][0] == "stages"
