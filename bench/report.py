"""The benchmark report: bench/report.json and bench/report.png from the benchmarks' outputs.

Inputs (each optional; a section whose input is missing is listed under "missing"):

    bench/out/stages.json      stages_bench.py: per-stage wall/CPU seconds, RTF and peak memory
                               of each stage run alone (one CLI process, model loading included)
    bench/out/pipeline*.json   pipeline_bench.py runs (a list each): "embedded" and
                               "distributed" single episodes, "throughput" batches
    bench/out/releases.json    releases_bench.py: the media stage on each release shape of
                               `dubset sample --shape` and on a long 5.1 pair
    bench/out/dub.json         dub_bench.py: `dubset dub` embedded on a long episode
    bench/out/faces*.json      faces_bench.py: the faces stage, speed and scores per seed
    bench/published.json       published speed figures of the tools users would otherwise run

Sections of the report:

    stages          per stage and language, run alone: rtf = wall / audio, cpu_s, peak_rss_mb
    pipeline_stages per task of the longest distributed run: compute seconds / episode seconds,
                    and its service process's peak memory
    end_to_end      per run: wall seconds, RTF, idle share (no stage computing), handoff share
                    (request and result on the bus + queueing), transport share (handoff without
                    queueing), handoff p50 / p99
    throughput      per workers-per-stage count: episodes per hour, program seconds per wall
                    second, speed-up over one worker, handoff / transport p50 / p99
    releases        "shapes": per release shape, the media stage's wall seconds and its time
                    map against the truth (pieces found and true, p50 / p95 error in ms,
                    coverage); "long": the same for the long 5.1 pair, or null
    dub             `dubset dub` embedded: per task, compute seconds and RTF, then the whole
                    job's wall seconds and RTF
    published       each published figure with its RTF, and dubset's figure for the same model
                    where one was measured
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
FORMAT = "dubset-bench-report/1"
# A single run's optional stages (pipeline_bench --no-tts/--no-faces/--no-quality); runs
# recorded before these flags had every one on.
OPTIONAL_FLAGS = ("dubs", "faces", "quality")

Run = dict[str, Any]


def load_runs(paths: list[Path]) -> list[Run]:
    """pipeline_bench runs from every file, the newest file's run winning for the same
    (mode, seconds, workers) key."""
    latest: dict[tuple[object, ...], tuple[float, Run]] = {}
    for path in paths:
        mtime = path.stat().st_mtime
        for run in json.loads(path.read_text()):
            key = (
                run.get("mode"),
                run.get("seconds", run.get("episode_seconds")),
                run.get("workers_per_stage"),
                run.get("episodes"),
                *(run.get(flag, True) for flag in OPTIONAL_FLAGS),
            )
            if key not in latest or latest[key][0] <= mtime:
                latest[key] = (mtime, run | {"source": path.name})
    return [run for _, run in sorted(latest.values(), key=lambda item: _order(item[1]))]


def _order(run: Run) -> tuple[str, float, int, tuple[bool, ...]]:
    seconds = run.get("seconds", run.get("episode_seconds")) or 0
    flags = tuple(not run.get(flag, True) for flag in OPTIONAL_FLAGS)  # all on first
    return str(run.get("mode")), float(seconds), int(run.get("workers_per_stage") or 0), flags


def stage_rows(stages: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per stage and language of stages_bench's longest generated episode."""
    episodes = [e for e in stages.get("episodes", []) if e.get("stages")]
    if not episodes:
        return []
    longest = max(episodes, key=lambda e: sum(s.get("audio_s", 0) for s in e["stages"]))
    rows = [_stage_row(st["stage"], st) for st in longest["stages"] if st.get("ok")]
    librivox = stages.get("librivox") or {}
    rows += [_stage_row("asr (LibriVox)", st) for st in librivox.get("stages", []) if st.get("ok")]
    return rows


def _stage_row(name: str, st: dict[str, Any]) -> dict[str, Any]:
    keys = ("language", "audio_s", "wall_s", "cpu_s", "rtf", "peak_rss_mb")
    return {"stage": name} | {key: st[key] for key in keys}


def pipeline_stage_rows(runs: list[Run]) -> list[dict[str, Any]]:
    """Per task of the longest distributed run: its compute RTF against the episode, and the
    peak memory of the service process that ran it."""
    distributed = [r for r in runs if r.get("mode") == "distributed" and r.get("tasks")]
    if not distributed:
        return []
    run = max(distributed, key=lambda r: float(r["seconds"]))
    peaks = run.get("peak_rss_mb", {})
    rows = []
    for task, t in run["tasks"].items():
        stage = task.split(".", 1)[0]
        rows.append(
            {
                "episode_s": run["seconds"],
                "task": task,
                "backend": t.get("backend", ""),
                "compute_s": t["compute_s"],
                "rtf": round(t["compute_s"] / run["seconds"], 4),
                "handoff_s": t.get("handoff_s"),
                "service_peak_rss_mb": peaks.get(f"{stage}-worker"),
            }
        )
    if "jobs-server" in peaks:
        rows.append({"episode_s": run["seconds"], "task": "jobs (orchestration)",
                     "service_peak_rss_mb": peaks["jobs-server"]})  # fmt: skip
    return rows


def end_to_end_rows(runs: list[Run]) -> list[dict[str, Any]]:
    rows = []
    for run in runs:
        if run.get("mode") not in ("embedded", "distributed"):
            continue
        handoff, transport = run.get("handoff") or {}, run.get("transport") or {}
        rows.append(
            {
                "mode": run["mode"],
                "episode_s": run["seconds"],
                # Runs recorded before these flags had every optional stage on.
                "dubs": run.get("dubs", True),
                "faces": run.get("faces", True),
                "quality": run.get("quality", True),
                "wall_s": run.get("wall_s"),
                "rtf": run.get("rtf"),
                "clips": run.get("clips"),
                # The whole machine's busy share of its cores over the run, and the wall time
                # if every core had been busy throughout (the floor without less work).
                "cpu_busy_share": (run.get("cpu") or {}).get("busy_share"),
                "cpu_bound_wall_s": (run.get("cpu") or {}).get("cpu_bound_wall_s"),
                "idle_share": run.get("idle_share"),
                "handoff_share": run.get("handoff_share"),
                "transport_share": run.get("transport_share"),
                "handoff_p50_s": handoff.get("p50"),
                "handoff_p99_s": handoff.get("p99"),
                "transport_p50_s": transport.get("p50"),
                "transport_p99_s": transport.get("p99"),
                "critical_path": path_text(run.get("critical_path") or []),
            }
        )
    return rows


def path_text(path: list[dict[str, Any]]) -> str:
    """A critical path as one line: each task with its compute seconds (+ its wait, if any)."""
    parts = []
    for step in path:
        wait = float(step.get("wait_s") or 0)
        extra = f" +{wait:.0f} wait" if wait >= 0.5 else ""
        parts.append(f"{step['task']} {float(step['compute_s']):.0f}{extra}")
    return " > ".join(parts)


def throughput_rows(runs: list[Run]) -> list[dict[str, Any]]:
    batches = sorted(
        (r for r in runs if r.get("mode") == "throughput"),
        key=lambda r: int(r["workers_per_stage"]),
    )
    base = next((r for r in batches if r["workers_per_stage"] == 1), None)
    rows = []
    for run in batches:
        speedup = None
        if base and base.get("episodes_per_hour") and run.get("episodes_per_hour"):
            speedup = round(run["episodes_per_hour"] / base["episodes_per_hour"], 2)
        rows.append(
            {
                "workers_per_stage": run["workers_per_stage"],
                "episodes": run["episodes"],
                "episode_s": run["episode_seconds"],
                "partitions": run.get("partitions"),
                "succeeded": run.get("succeeded"),
                "wall_s": run.get("wall_s"),
                "episodes_per_hour": run.get("episodes_per_hour"),
                "program_s_per_wall_s": run.get("program_s_per_wall_s"),
                "speedup_vs_1": speedup,
                "handoff_share": run.get("handoff_share"),
                "transport_share": run.get("transport_share"),
                **{
                    f"{part}_{q}_s": (run.get(part) or {}).get(q)
                    for part in ("handoff", "queued", "transport")
                    for q in ("p50", "p99")
                },
            }
        )
    return rows


def release_row(row: dict[str, Any]) -> dict[str, Any]:
    """One releases_bench row: the media stage's wall time and its time map's error."""
    return {
        "shape": row.get("shape"),
        "episode_s": row.get("episode_seconds"),
        "media_wall_s": row.get("media_wall_s"),
        "map_pieces": row.get("pieces"),
        "true_pieces": row.get("true_pieces"),
        "map_p50_ms": row.get("map_p50_error_ms"),
        "map_p95_ms": row.get("map_p95_error_ms"),
        "covered": row.get("coverage"),
    }


def releases_section(releases: dict[str, Any] | None) -> dict[str, Any]:
    """releases_bench's shapes and its long 5.1 pair (null when it was skipped or not run)."""
    releases = releases or {}
    long = releases.get("long_surround")
    return {
        "shapes": [release_row(row) for row in releases.get("shapes") or []],
        "long": release_row(long) if isinstance(long, dict) else None,
        "quality": [dict(row) for row in releases.get("quality") or []],
    }


def published_rows(published: list[dict[str, Any]], stages: list[dict[str, Any]]) -> list[Any]:
    """Each published figure, its RTF (time / audio), and ours where the same model ran: a
    figure's "ours" names a stage (and language) of the stages section."""
    rows = []
    for fig in published:
        row = dict(fig)
        if fig.get("audio_s") and fig.get("time_s"):
            row["rtf"] = round(fig["time_s"] / fig["audio_s"], 4)
        ours = fig.get("ours")
        if isinstance(ours, dict):
            match = next(
                (s for s in stages if s["stage"] == ours.get("stage")
                 and s["language"] == ours.get("language", s["language"])),
                None,
            )  # fmt: skip
            row["ours_rtf"] = match["rtf"] if match else None
        rows.append(row)
    return rows


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(),
        "gpu": None,
    }


def stamp() -> dict[str, str]:
    """When and from which commit a report was generated."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        commit = ""
    return {"date": time.strftime("%Y-%m-%d", time.gmtime()), "commit": commit}


def build(
    stages: dict[str, Any] | None,
    runs: list[Run],
    published: list[dict[str, Any]],
    releases: dict[str, Any] | None = None,
    dub: dict[str, Any] | None = None,
    faces: list[dict[str, Any]] | None = None,
    previous: dict[str, Any] | None = None,
    generated: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The report; with `previous` (an earlier report), a section whose input is missing is
    carried from it and named under "carried" with that report's "generated" stamp."""
    report: dict[str, Any] = {
        "format": FORMAT,
        "generated": generated or {},
        "machine": machine(),
        "stages": stage_rows(stages) if stages else [],
        "pipeline_stages": pipeline_stage_rows(runs),
        "end_to_end": end_to_end_rows(runs),
        "throughput": throughput_rows(runs),
        "releases": releases_section(releases),
        "dub": dub_rows(dub),
        "faces": faces_rows(faces or []),
    }
    report["carried"] = carry(report, previous) if previous else {}
    report["published"] = published_rows(published, report["stages"])
    report["missing"] = [name for name in SECTIONS if not report[name]]
    report["missing"] += [name for name, part in (("releases", "shapes"), ("releases_long", "long"))
                          if not report["releases"][part]]  # fmt: skip
    return report


SECTIONS = ("stages", "pipeline_stages", "end_to_end", "throughput", "dub", "faces")


def carry(report: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """Fill the report's empty sections from `previous` (in place); returns, per section
    carried, when the previous report was generated (older reports have no stamp)."""
    stamp = previous.get("generated") or {"date": "unknown (an older report)"}
    carried: dict[str, Any] = {}
    for name in SECTIONS:
        if not report[name] and previous.get(name):
            report[name] = previous[name]
            carried[name] = previous.get("carried", {}).get(name, stamp)
    old = previous.get("releases") or {}
    for part in ("shapes", "long", "quality"):
        if not report["releases"].get(part) and old.get(part):
            report["releases"][part] = old[part]
            carried[f"releases.{part}"] = previous.get("carried", {}).get(f"releases.{part}", stamp)
    return carried


def dub_rows(dub: dict[str, Any] | None) -> list[dict[str, Any]]:
    """dub_bench's run: one row per task, then the whole job (empty when it did not run)."""
    if not dub:
        return []
    seconds = dub["episode_seconds"]
    rows = [{"episode_s": seconds, "task": task, "compute_s": compute, "rtf": compute / seconds}
            for task, compute in dub["stages_compute_s"].items()]  # fmt: skip
    return [*rows, {"episode_s": seconds, "task": "whole job (wall)", "compute_s": dub["wall_s"],
                    "rtf": dub["rtf"]}]  # fmt: skip


def faces_rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """faces_bench's runs (each file's seeds): speed, then the scores against the truth."""
    rows = []
    for doc in runs:
        for r in doc["runs"]:
            s = r["score"]
            rows.append({
                "episode_s": r["seconds"], "seed": r["seed"], "held_out": r["held_out"],
                "pipeline": doc.get("pipeline", False), "wall_s": r["wall_s"], "rtf": r["rtf"],
                "frames_per_s": r["frames_per_s"], "shot_f1": s["shot_f1"],
                "face_recall": s["face_recall"]["rate"],
                "face_precision": s["face_precision"]["rate"],
                "speaking": s.get("speaking", {}).get("rate"),
            })  # fmt: skip
    return rows


def _fmt(value: object, spec: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and spec:
        return format(value, spec)
    return str(value)


def markdown(report: dict[str, Any]) -> str:
    """The report's tables as Markdown (printed, and pasted into notes)."""
    out = []

    def table(title: str, rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
        if not rows:
            return
        out.append(f"### {title}\n")
        out.append("| " + " | ".join(key for key, _ in columns) + " |")
        out.append("|" + "---|" * len(columns))
        for row in rows:
            out.append("| " + " | ".join(_fmt(row.get(k), spec) for k, spec in columns) + " |")
        out.append("")

    table("Stages run alone (CLI, model loading included)", report["stages"],
          [("stage", ""), ("language", ""), ("audio_s", ".1f"), ("wall_s", ".1f"),
           ("cpu_s", ".1f"), ("rtf", ".3f"), ("peak_rss_mb", ".0f")])  # fmt: skip
    table("Stages in the distributed pipeline", report["pipeline_stages"],
          [("episode_s", ".0f"), ("task", ""), ("backend", ""), ("compute_s", ".1f"),
           ("rtf", ".3f"), ("handoff_s", ".2f"), ("service_peak_rss_mb", ".0f")])  # fmt: skip
    table("End to end", report["end_to_end"],
          [("mode", ""), ("episode_s", ".0f"), ("dubs", ""), ("faces", ""), ("quality", ""),
           ("wall_s", ".1f"), ("rtf", ".3f"), ("cpu_busy_share", ".2f"),
           ("cpu_bound_wall_s", ".0f"), ("clips", ""), ("idle_share", ".3f"),
           ("handoff_share", ".3f"),
           ("transport_share", ".3f"), ("handoff_p50_s", ".3f"), ("handoff_p99_s", ".3f"),
           ("transport_p50_s", ".3f"), ("transport_p99_s", ".3f")])  # fmt: skip
    table("Critical paths (task compute s, + s waiting for a worker)", report["end_to_end"],
          [("mode", ""), ("episode_s", ".0f"), ("dubs", ""), ("faces", ""), ("quality", ""),
           ("critical_path", "")])  # fmt: skip
    table("Throughput", report["throughput"],
          [("workers_per_stage", ""), ("episodes", ""), ("episode_s", ".0f"),
           ("wall_s", ".1f"), ("episodes_per_hour", ".1f"), ("program_s_per_wall_s", ".3f"),
           ("speedup_vs_1", ".2f"), ("transport_share", ".3f"), ("handoff_p50_s", ".3f"),
           ("handoff_p99_s", ".3f"), ("transport_p50_s", ".3f"),
           ("transport_p99_s", ".3f")])  # fmt: skip
    releases = report["releases"]
    seconds = {row["episode_s"] for row in releases["shapes"]}
    length = f", {_fmt(seconds.pop(), '.0f')} s episodes" if len(seconds) == 1 else ""
    table(f"Release shapes (media stage{length})", releases["shapes"],
          [("shape", ""), ("media_wall_s", ".2f"), ("map_pieces", ""), ("true_pieces", ""),
           ("map_p50_ms", ".1f"), ("map_p95_ms", ".1f"), ("covered", ".3f")])  # fmt: skip
    out += long_release_lines(releases["long"])
    table("Release shapes through `dubset run` (clips against the truth)", releases["quality"],
          [("shape", ""), ("clip_f1", ".3f"), ("f1_below_plain", ".3f"), ("en_wer", ".3f"),
           ("ja_cer", ".3f"), ("run_wall_s", ".1f")])  # fmt: skip
    table("Dubbing an episode (`dubset dub`, embedded)", report["dub"],
          [("episode_s", ".0f"), ("task", ""), ("compute_s", ".1f"), ("rtf", ".3f")])  # fmt: skip
    table("Faces (`dubset faces`, or within `dubset run` for the speaking faces)", report["faces"],
          [("episode_s", ".0f"), ("seed", ""), ("held_out", ""), ("pipeline", ""),
           ("rtf", ".3f"), ("frames_per_s", ".1f"), ("shot_f1", ".3f"), ("face_recall", ".3f"),
           ("face_precision", ".3f"), ("speaking", ".3f")])  # fmt: skip
    table("Published figures", report["published"],
          [("tool", ""), ("model", ""), ("hardware", ""), ("rtf", ".4f"),
           ("ours_rtf", ".3f"), ("same_model", "")])  # fmt: skip
    if report.get("carried"):
        out.append("carried from an earlier report (not re-measured): "
                   + ", ".join(f"{k} ({v.get('date', '?')})"
                               for k, v in report["carried"].items()))  # fmt: skip
    if report["missing"]:
        out.append(f"missing: {', '.join(report['missing'])} (run `make bench`)")
    return "\n".join(out)


def long_release_lines(long: dict[str, Any] | None) -> list[str]:
    """The long 5.1 pair in one line (nothing when releases_bench did not run it)."""
    if long is None:
        return []
    minutes = _fmt(long["episode_s"] / 60 if long.get("episode_s") else None, ".0f")
    return [
        f"{minutes}-minute 5.1 pair: media {_fmt(long['media_wall_s'], '.2f')} s, "
        f"map p95 {_fmt(long['map_p95_ms'], '.1f')} ms, covered {_fmt(long['covered'], '.3f')}",
        "",
    ]


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(17, 9.5))
    fig.suptitle(
        f"dubset benchmark: {report['machine']['cpus']} CPUs "
        f"({report['machine']['cpu_model'] or 'unknown CPU'}), no GPU"
    )
    stages = report["stages"]
    labels = [f"{s['stage']}\n{s['language']}" for s in stages]
    _bars(axes[0][0], labels, [s["rtf"] for s in stages], "RTF (wall / audio)",
          "stages alone: RTF (lower is faster)" + _carried(report, "stages"),
          "{:.3f}")  # fmt: skip
    services = [r for r in report["pipeline_stages"] if r.get("service_peak_rss_mb")]
    seen: dict[str, Any] = {}
    for r in services:  # one bar per service (asr.ja and asr.en ran in the same process)
        seen.setdefault(r["task"].split(".", 1)[0].split(" ", 1)[0], r["service_peak_rss_mb"])
    if seen:
        _bars(axes[0][1], list(seen), list(seen.values()), "MB",
              "peak memory per service (distributed pipeline)", "{:.0f}")  # fmt: skip
    else:
        _bars(axes[0][1], labels, [s["peak_rss_mb"] for s in stages], "MB",
              "stages alone: peak memory", "{:.0f}")  # fmt: skip
    pipe = [r for r in report["pipeline_stages"] if "rtf" in r]
    _bars(axes[0][2], [r["task"] for r in pipe], [r["rtf"] for r in pipe],
          "compute s / episode s",
          f"distributed pipeline: stage RTF ({_fmt(pipe[0]['episode_s'], '.0f') if pipe else '-'}"
          " s episode)", "{:.3f}")  # fmt: skip
    e2e = report["end_to_end"]
    ax = axes[1][0]
    groups = sorted({_e2e_group(r) for r in e2e}, key=lambda g: (g[0], g[1:]))
    for i, mode in enumerate(("embedded", "distributed")):
        rows = {_e2e_group(r): r for r in e2e if r["mode"] == mode}
        xs = [j + i * 0.4 for j, g in enumerate(groups) if g in rows]
        shown = [rows[g] for g in groups if g in rows]
        bars = ax.bar(xs, [r["rtf"] for r in shown], width=0.4, label=mode)
        for bar, row in zip(bars, shown, strict=True):
            note = f"{row['rtf']:.2f}"
            if mode == "distributed" and row.get("transport_share") is not None:
                note += f"\ntransport {row['transport_share']:.0%}"
            ax.annotate(note, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=7)  # fmt: skip
    ax.set_xticks([j + 0.2 for j in range(len(groups))], [_e2e_label(g) for g in groups],
                  fontsize=7)  # fmt: skip
    ax.set_ylabel("RTF (wall / episode)")
    ax.set_title("end to end")
    if e2e:
        ax.legend()
    thr = report["throughput"]
    _bars(axes[1][1], [f"{r['workers_per_stage']} worker(s)" for r in thr],
          [r["episodes_per_hour"] for r in thr], "episodes / hour",
          (f"throughput ({thr[0]['episodes']} x {thr[0]['episode_s']:.0f} s episodes)"
           if thr else "throughput") + _carried(report, "throughput"), "{:.0f}")  # fmt: skip
    ax = axes[1][2]
    names, p50, p99 = [], [], []
    for r in e2e:
        if r["mode"] == "distributed" and r.get("transport_p50_s") is not None:
            names.append(f"one episode, {_e2e_label(_e2e_group(r))}")
            p50.append(r["transport_p50_s"])
            p99.append(r["transport_p99_s"])
    for r in thr:
        if r.get("transport_p50_s") is not None:
            names.append(f"batch, {r['workers_per_stage']} worker(s)")
            p50.append(r["transport_p50_s"])
            p99.append(r["transport_p99_s"])
    xs = list(range(len(names)))
    ax.bar([x - 0.2 for x in xs], p50, width=0.4, label="p50")
    ax.bar([x + 0.2 for x in xs], p99, width=0.4, label="p99")
    ax.set_xticks(xs, names, fontsize=7, rotation=30, ha="right")
    ax.set_ylabel("seconds")
    ax.set_title("stage-to-stage transport latency (queueing excluded)")
    if names:
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _carried(report: dict[str, Any], section: str) -> str:
    """A plot title's note that its section was carried from an earlier report."""
    stamp = report.get("carried", {}).get(section)
    return f"\n(carried: {stamp.get('date', '?')})" if stamp else ""


def _e2e_group(row: dict[str, Any]) -> tuple[float, bool, bool, bool]:
    """An end-to-end row's bar group: its episode length and which optional stages ran."""
    dubs, faces, quality = (bool(row.get(flag, True)) for flag in OPTIONAL_FLAGS)
    return float(row["episode_s"]), dubs, faces, quality


def _e2e_label(group: tuple[float, bool, bool, bool]) -> str:
    seconds, *flags = group
    off = [name for name, on in zip(("dubs", "faces", "quality"), flags, strict=True) if not on]
    return f"{seconds / 60:.0f} min" + (f"\nno {', '.join(off)}" if off else "")


def _bars(ax: Any, labels: list[str], values: list[Any], ylabel: str, title: str,
          spec: str) -> None:  # fmt: skip
    shown = [v if v is not None else 0 for v in values]
    bars = ax.bar(range(len(shown)), shown)
    for bar, value in zip(bars, values, strict=True):
        if value is not None:
            ax.annotate(spec.format(value), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8)  # fmt: skip
    ax.set_xticks(range(len(labels)), labels, fontsize=7, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=Path, default=OUT / "stages.json")
    parser.add_argument(
        "--pipeline", type=Path, action="append", help="pipeline_bench output (default: "
        "bench/out/pipeline*.json)"
    )  # fmt: skip
    parser.add_argument("--releases", type=Path, default=OUT / "releases.json")
    parser.add_argument("--dub", type=Path, default=OUT / "dub.json")
    parser.add_argument(
        "--faces", type=Path, action="append", help="faces_bench output (default: "
        "bench/out/faces*.json)"
    )  # fmt: skip
    parser.add_argument("--published", type=Path, default=ROOT / "bench" / "published.json")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "report.json")
    parser.add_argument("--plot", type=Path, default=ROOT / "bench" / "report.png")
    parser.add_argument(
        "--carry", action="store_true", help="sections this run did not measure: keep the "
        "previous --out report's, named under \"carried\" (make bench-speed)"
    )  # fmt: skip
    args = parser.parse_args(argv)
    stages = json.loads(args.stages.read_text()) if args.stages.exists() else None
    runs = load_runs(args.pipeline or sorted(OUT.glob("pipeline*.json")))
    published = json.loads(args.published.read_text()) if args.published.exists() else []
    releases = json.loads(args.releases.read_text()) if args.releases.exists() else None
    dub = json.loads(args.dub.read_text()) if args.dub.exists() else None
    faces = [json.loads(p.read_text()) for p in args.faces or sorted(OUT.glob("faces*.json"))]
    previous = json.loads(args.out.read_text()) if args.carry and args.out.exists() else None
    report = build(stages, runs, published, releases, dub, faces, previous, stamp())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    plot(report, args.plot)
    print(markdown(report))
    print(f"report: {args.out}, plot: {args.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
