"""Faces benchmark: the faces stage (`dubset faces`) on generated episodes, scored against
their picture truth by `dubset eval` (shot F1, face recall/precision at IoU 0.5, face-clip
frames), with its wall time, real-time factor and frames decoded per second.

    .venv/bin/python bench/faces_bench.py --seconds 120 --seeds 3,11,29,41 \
        --out bench/out/faces.json
    .venv/bin/python bench/faces_bench.py --seconds 1440 --seeds 3 --out bench/out/faces_long.json

With --pipeline it runs `dubset run` instead (ASR, diarization, alignment and packaging give
the faces stage its clip pairs and speakers), so the speaking faces are scored too.

Seeds 3 and 7 are the ones the stage was developed on; the others are held out.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from dubset_cli.main import main as dubset
from dubset_eval.evaluate import evaluate
from dubset_eval.report import to_json
from dubset_sample.generate import SampleOptions, generate

ROOT = Path(__file__).resolve().parents[1]
DEVELOPED_ON = (3, 7)


def episode(seconds: float, seed: int) -> Path:
    """A generated episode under bench/out/episodes (kept between runs)."""
    out = ROOT / "bench" / "out" / "episodes" / f"faces-s{int(seconds)}-seed{seed}"
    if not (out / "truth.json").exists():
        print(f"generating a {seconds:.0f} s episode (seed {seed}) ...", file=sys.stderr)
        generate(SampleOptions(out=out, seconds=seconds, seed=seed, characters=3))
    return out


def run(folder: Path, seed: int, pipeline: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="dubset-faces-bench-") as tmp:
        out = Path(tmp) / "faces"
        started = time.monotonic()
        if pipeline:
            files = ["--ja", str(folder / "ja.mp4"), "--en", str(folder / "en.mp4")]
            args = ["run", *files, "--show", str(folder / "show.json"), "--episode-number", "1"]
            code = dubset([*args, "--no-tts", "--out", str(out)])
        else:
            code = dubset(["faces", str(folder / "ja.mp4"), "--out", str(out)])
        wall = time.monotonic() - started
        if code != 0:
            raise SystemExit(f"dubset failed on seed {seed}")
        (found,) = out.glob("faces.json") if not pipeline else out.glob("stages/faces/*/faces.json")
        doc = json.loads(found.read_text())
        report = to_json(evaluate(folder / "truth.json", found))
    (row,) = report["faces"]  # type: ignore[misc]
    video = doc["video"]
    seconds = video["duration_ms"] / 1000
    return {
        "seed": seed,
        "held_out": seed not in DEVELOPED_ON,
        "seconds": seconds,
        "wall_s": round(wall, 2),
        "rtf": round(wall / seconds, 4),
        "frames": video["frames"],
        "frames_per_s": round(video["frames"] / wall, 1),
        "face_samples": doc["analysis"]["samples"],
        "face_detections": doc["analysis"].get("detected"),
        "shots": len(doc["shots"]),
        "tracks": len(doc["tracks"]),
        "clips": len(doc["clips"]),
        "score": row,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--seeds", default="3,11,29,41")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pipeline", action="store_true", help="dubset run (speaking faces)")
    args = parser.parse_args()
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        row = run(episode(args.seconds, seed), seed, args.pipeline)
        score = row["score"]
        assert isinstance(score, dict)
        print(
            f"seed {seed}: rtf {row['rtf']:.3f} ({row['frames_per_s']} frames/s), "
            f"shot F1 {score['shot_f1']:.3f}, face R {score['face_recall']['rate']:.3f} "
            f"P {score['face_precision']['rate']:.3f}, speaking {score['speaking']['rate']}, "
            f"off {score['offscreen']['rate']}",
            file=sys.stderr,
        )
        rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    value = {"seconds": args.seconds, "pipeline": args.pipeline, "runs": rows}
    args.out.write_text(json.dumps(value, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
