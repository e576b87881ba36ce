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
DUB = {"episode_seconds": 120.0, "wall_s": 60.0, "rtf": 0.5, "stages_compute_s": {"render": 6.0}}


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


def _release(shape: str, seconds: float, wall: float, p95: float | None) -> dict[str, object]:
    return {"shape": shape, "episode_seconds": seconds, "media_wall_s": wall, "pieces": 2,
            "true_pieces": 2, "map_p50_error_ms": 0.0 if p95 is not None else None,
            "map_p95_error_ms": p95, "coverage": 0.9981,
            "tracks": {"ja": "#1", "en": "#2"}}  # fmt: skip


FACES = {
    "seconds": 60,
    "pipeline": True,
    "runs": [
        {"seed": 11, "held_out": True, "seconds": 60.0, "wall_s": 18.0, "rtf": 0.3,
         "frames": 1440, "frames_per_s": 80.0,
         "score": {"shot_f1": 1.0, "face_recall": {"rate": 0.99},
                   "face_precision": {"rate": 0.95}, "speaking": {"rate": 0.8}}}
    ],
}  # fmt: skip
RELEASES = {
    "format": "dubset-bench-releases/1",
    "shapes": [_release("plain", 60.0, 1.67, 0.0), _release("card,pal-pitch", 60.0, 1.47, None)],
    "long_surround": _release("surround", 1440.0, 14.18, 0.4),
}


def test_build_derives_every_section() -> None:
    built = report.build(STAGES, _runs(), PUBLISHED, RELEASES, DUB, [FACES])
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
    shapes, long = built["releases"]["shapes"], built["releases"]["long"]
    assert [r["shape"] for r in shapes] == ["plain", "card,pal-pitch"]
    assert shapes[0] == {"shape": "plain", "episode_s": 60.0, "media_wall_s": 1.67,
                         "map_pieces": 2, "true_pieces": 2, "map_p50_ms": 0.0,
                         "map_p95_ms": 0.0, "covered": 0.9981}  # fmt: skip
    assert shapes[1]["map_p95_ms"] is None  # no score: reported as such, not as zero
    assert long["episode_s"] == 1440.0 and long["media_wall_s"] == 14.18
    assert long["map_p95_ms"] == 0.4
    fw, pa = built["published"]
    assert fw["rtf"] == 0.1 and fw["ours_rtf"] == 0.25
    assert pa["rtf"] == 0.025 and "ours_rtf" not in pa


def test_missing_inputs_are_named() -> None:
    built = report.build(None, [], [])
    assert built["missing"] == [
        "stages", "pipeline_stages", "end_to_end", "throughput", "dub", "faces", "releases",
        "releases_long",
    ]  # fmt: skip
    assert built["releases"] == {"shapes": [], "long": None, "quality": []}
    text = report.markdown(built)
    assert "missing: stages" in text and "releases_long" in text and "Release shapes" not in text


def test_dub_rows_per_task_then_the_whole_job() -> None:
    dub = {"episode_seconds": 1440.0, "wall_s": 720.0, "rtf": 0.5,
           "stages_compute_s": {"asr.ja": 288.0, "render": 72.0}}  # fmt: skip
    built = report.build(None, [], [], None, dub)
    assert [(r["task"], r["rtf"]) for r in built["dub"]] == [
        ("asr.ja", 0.2), ("render", 0.05), ("whole job (wall)", 0.5)
    ]  # fmt: skip
    assert "dub" not in built["missing"]
    assert "| 1440 | asr.ja | 288.0 | 0.200 |" in report.markdown(built)


def test_faces_rows_per_seed_with_their_scores() -> None:
    built = report.build(None, [], [], None, None, [FACES])
    (row,) = built["faces"]
    assert (row["seed"], row["held_out"], row["rtf"], row["speaking"]) == (11, True, 0.3, 0.8)
    assert "faces" not in built["missing"]
    assert "| 60 | 11 | True | True | 0.300 | 80.0 | 1.000 | 0.990 | 0.950 | 0.800 |" in (
        report.markdown(built)
    )


def test_releases_without_the_long_pair() -> None:
    # BENCH_LONG_SECONDS=0: the shapes' table, and the long pair named missing.
    built = report.build(None, [], [], RELEASES | {"long_surround": None})
    assert built["missing"][-1] == "releases_long" and "releases" not in built["missing"]
    text = report.markdown(built)
    assert "### Release shapes (media stage, 60 s episodes)" in text
    assert "| card,pal-pitch | 1.47 | 2 | 2 | - | - | 0.998 |" in text
    assert "5.1 pair" not in text


def test_releases_table_and_long_pair() -> None:
    text = report.markdown(report.build(None, [], [], RELEASES))
    lines = text.splitlines()
    head = lines.index("### Release shapes (media stage, 60 s episodes)")
    assert lines[head + 2 : head + 5] == [
        "| shape | media_wall_s | map_pieces | true_pieces | map_p50_ms | map_p95_ms | covered |",
        "|---|---|---|---|---|---|---|",
        "| plain | 1.67 | 2 | 2 | 0.0 | 0.0 | 0.998 |",
    ]
    assert "24-minute 5.1 pair: media 14.18 s, map p95 0.4 ms, covered 0.998" in lines


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
    releases = tmp_path / "r.json"
    releases.write_text(json.dumps(RELEASES))
    dub = tmp_path / "d.json"
    dub.write_text(json.dumps(DUB))
    faces = tmp_path / "faces.json"
    faces.write_text(json.dumps(FACES))
    stages.write_text(json.dumps(STAGES))
    pipeline.write_text(json.dumps(_runs()))
    published.write_text(json.dumps(PUBLISHED))
    out, png = tmp_path / "report.json", tmp_path / "report.png"
    argv = ["--stages", str(stages), "--pipeline", str(pipeline), "--published", str(published),
            "--releases", str(releases), "--dub", str(dub), "--faces", str(faces),
            "--out", str(out),
            "--plot", str(png)]  # fmt: skip
    assert report.main(argv) == 0
    written = json.loads(out.read_text())
    assert written["throughput"][1]["episodes_per_hour"] == 150.0
    assert written["releases"]["long"]["media_wall_s"] == 14.18 and written["missing"] == []
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    text = capsys.readouterr().out
    assert "### End to end" in text and "| distributed | 120 |" in text
    assert "| plain | 1.67 | 2 | 2 | 0.0 | 0.0 | 0.998 |" in text
    # Nothing measured yet: still a report and a plot, naming what is missing.
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    none = str(tmp_path / "none")
    argv = ["--stages", none, "--pipeline", str(empty), "--published", none,
            "--releases", none, "--dub", none, "--out", str(out), "--plot", str(png)]  # fmt: skip
    assert report.main(argv) == 0
    missing = json.loads(out.read_text())["missing"]
    assert missing[0] == "stages" and missing[-2:] == ["releases", "releases_long"]
    assert "missing: stages" in capsys.readouterr().out


def test_release_quality_table() -> None:
    quality = [
        {"shape": "plain", "clip_f1": 0.96, "f1_below_plain": 0.0, "en_wer": 0.05,
         "ja_cer": 0.1, "run_wall_s": 35.2},
        {"shape": "pal", "clip_f1": 0.917, "f1_below_plain": 0.043, "en_wer": 0.06,
         "ja_cer": None, "run_wall_s": 36.0},
    ]  # fmt: skip
    text = report.markdown(report.build(None, [], [], RELEASES | {"quality": quality}))
    lines = text.splitlines()
    head = lines.index("### Release shapes through `dubset run` (clips against the truth)")
    assert lines[head + 2 : head + 6] == [
        "| shape | clip_f1 | f1_below_plain | en_wer | ja_cer | run_wall_s |",
        "|---|---|---|---|---|---|",
        "| plain | 0.960 | 0.000 | 0.050 | 0.100 | 35.2 |",
        "| pal | 0.917 | 0.043 | 0.060 | - | 36.0 |",
    ]


def test_end_to_end_rows_carry_the_dubs_flag_and_the_critical_path() -> None:
    path = [
        {"task": "media", "compute_s": 3.0, "wait_s": 0.0, "return_s": 0.0},
        {"task": "asr.en", "compute_s": 37.6, "wait_s": 49.3, "return_s": 0.0},
        {"task": "faces", "compute_s": 145.4, "wait_s": 0.1, "return_s": 0.0},
    ]
    runs = [
        {"mode": "embedded", "seconds": 300.0, "dubs": False, "critical_path": path},
        {"mode": "distributed", "seconds": 300.0},  # an older run: it made the dubs
    ]
    rows = report.end_to_end_rows(runs)
    assert [r["dubs"] for r in rows] == [False, True]
    assert [(r["faces"], r["quality"]) for r in rows] == [(True, True)] * 2
    assert rows[0]["critical_path"] == "media 3 > asr.en 38 +49 wait > faces 145"
    assert rows[1]["critical_path"] == ""


def test_runs_with_and_without_dubs_are_both_kept(tmp_path: Path) -> None:
    both, nodubs = tmp_path / "pipeline_long.json", tmp_path / "pipeline_long_nodubs.json"
    both.write_text(json.dumps([{"mode": "embedded", "seconds": 1440.0, "rtf": 0.9}]))
    cpu = {"busy_share": 0.93, "cpu_bound_wall_s": 1070.0}
    nodubs.write_text(json.dumps([{"mode": "embedded", "seconds": 1440.0, "rtf": 0.8,
                                   "dubs": False, "cpu": cpu}]))  # fmt: skip
    runs = report.load_runs([both, nodubs])
    assert [(r["rtf"], r.get("dubs", True)) for r in runs] == [(0.9, True), (0.8, False)]
    rows = report.end_to_end_rows(runs)
    assert rows[1]["cpu_busy_share"] == 0.93 and rows[1]["cpu_bound_wall_s"] == 1070.0
    assert rows[0]["cpu_busy_share"] is None  # a run recorded before the machine's CPU was
    built = report.build(None, runs, [])
    report.plot(built, tmp_path / "p.png")  # two bar groups at one length
    assert "| embedded | 1440 | False | True | True |" in report.markdown(built)
    assert report._e2e_label((1440.0, False, True, True)) == "24 min\nno dubs"


def test_carry_keeps_what_was_not_measured_and_says_so() -> None:
    earlier = report.build(STAGES, _runs(), PUBLISHED, RELEASES, DUB, [FACES],
                           generated={"date": "2026-12-03", "commit": "15642c9"})  # fmt: skip
    runs = [{"mode": "embedded", "seconds": 1440.0, "rtf": 0.8, "dubs": False}]
    built = report.build(None, runs, PUBLISHED, None, None, None, earlier,
                         {"date": "2026-12-07", "commit": "abc"})  # fmt: skip
    assert [r["episode_s"] for r in built["end_to_end"]] == [1440.0]  # measured: not carried
    assert built["stages"] == earlier["stages"] and built["dub"] == earlier["dub"]
    assert built["releases"]["long"] == earlier["releases"]["long"]
    assert built["published"][0]["ours_rtf"] == 0.25  # from the carried stages
    assert set(built["carried"]) == {"stages", "pipeline_stages", "throughput", "dub", "faces",
                                     "releases.shapes", "releases.long"}  # fmt: skip
    assert built["carried"]["stages"] == {"date": "2026-12-03", "commit": "15642c9"}
    assert built["missing"] == [] and built["generated"]["commit"] == "abc"
    # Carried again, a section keeps the stamp of the report that measured it.
    again = report.build(None, runs, [], None, None, None, built, {"date": "2026-12-08"})
    assert again["carried"]["dub"] == {"date": "2026-12-03", "commit": "15642c9"}
    assert "carried from an earlier report (not re-measured): stages (2026-12-03)" in (
        report.markdown(again)
    )
    # An older report, without a stamp.
    old = report.build(None, [], [], None, DUB)
    old.pop("generated")
    assert report.build(None, [], [], previous=old)["carried"]["dub"]["date"].startswith("unknown")
