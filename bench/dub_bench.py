"""Dub benchmark: `dubset dub`'s job (media → separation → ASR + diarization → translation →
voices → render) embedded on a generated episode with English subtitles at its Japanese
lines; the wall time, the real-time factor and each stage's compute seconds, then (with
--score) the dub scored against the episode's human dub by `dubset eval`.

    .venv/bin/python bench/dub_bench.py --seconds 1440 --out bench/out/dub.json
    .venv/bin/python bench/dub_bench.py --seconds 120 --characters 3 --seed 3 --score \
        --out bench/out/dub_quality.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from pipeline_bench import tasks_of

from dubset.v1 import jobs_pb2
from dubset_cli.dub import fetch_dub, upload_dub
from dubset_cli.main import main as dubset
from dubset_cli.pipeline import embedded
from dubset_sample.generate import SampleOptions, generate
from dubset_sample.subs import english_on_ja

ROOT = Path(__file__).resolve().parents[1]


def episode(seconds: float, seed: int, characters: int) -> Path:
    """A generated episode under bench/out/episodes (kept), with dub.en.ass beside it."""
    out = ROOT / "bench" / "out" / "episodes" / f"dub-s{int(seconds)}-seed{seed}-c{characters}"
    if not (out / "truth.json").exists():
        print(f"generating a {seconds:.0f} s episode (seed {seed}) ...", file=sys.stderr)
        generate(SampleOptions(out=out, seconds=seconds, seed=seed, characters=characters))
    (out / "dub.en.ass").write_text(english_on_ja(json.loads((out / "truth.json").read_text())))
    return out


def dub_args(folder: Path, out: Path) -> argparse.Namespace:
    """What `dubset dub --video ja.mp4 --en-subs dub.en.ass --out OUT` parses to."""
    return argparse.Namespace(
        video=folder / "ja.mp4", en_subs=folder / "dub.en.ass", en_subs_track=None,
        ja_track=None, show=None, episode_number=1, translation=None, endpoint="", model="",
        tts_backend="piper", voice=[], out=out,
    )  # fmt: skip


def run(folder: Path, seconds: float, out: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="dubset-dub-bench-") as tmp, embedded(Path(tmp)) as p:
        args = dub_args(folder, out)
        started = time.monotonic()
        job, _ = p.submit(upload_dub(args, p.store))
        *_, job = p.watch(job.job_id)
        wall = time.monotonic() - started
        assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, (job.error_stage, job.error_reason)
        fetch_dub(p.store, job, out)
    stages = {
        t.name: round(t.compute_ms / 1000, 2) for t in tasks_of(job) if t.complete
    }  # the stage's own compute; reused or never-run tasks have no timestamps
    report = json.loads(out.with_suffix(".report.json").read_text())
    return {
        "episode_seconds": seconds,
        "wall_s": round(wall, 1),
        "rtf": round(wall / seconds, 3),
        "stages_compute_s": stages,
        "stages_rtf": {k: round(v / seconds, 3) for k, v in stages.items()},
        "lines": len(report.get("lines", [])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1440.0)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--characters", type=int, default=3)
    parser.add_argument("--score", action="store_true", help="then `dubset eval` the dub")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "dub.json")
    args = parser.parse_args(argv)
    folder = episode(args.seconds, args.seed, args.characters)
    dubbed = folder / "ja.dubbed.mkv"
    row = run(folder, args.seconds, dubbed)
    if args.score:
        scores = folder / "dub.scores.json"
        code = dubset(["eval", "--truth", str(folder / "truth.json"), "--result",
                       str(dubbed.with_suffix(".report.json")), "--json", str(scores)])  # fmt: skip
        row["eval_exit"] = code
        row["scores"] = json.loads(scores.read_text()) if scores.exists() else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(row, indent=1) + "\n")
    print(json.dumps({k: v for k, v in row.items() if k != "scores"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
