"""Sample-generator benchmark: wall time per step of `dubset sample` for given episode lengths."""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from dubset_sample.generate import SampleOptions, generate


class StepTimer:
    """A progress hook that records when each step starts and ends."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self._step = ""
        self._at = time.monotonic()

    def __call__(self, step: str, fraction: float) -> None:
        now = time.monotonic()
        if step != self._step:
            self.close(now)
            self._step, self._at = step, now

    def close(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self._step:
            self.steps[self._step] = round(self.steps.get(self._step, 0.0) + now - self._at, 2)
        self._step = ""


def run(seconds: float, seed: int, check_voices: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="dubset-bench-") as tmp:
        timer = StepTimer()
        started = time.monotonic()
        truth_path = generate(
            SampleOptions(out=Path(tmp), seconds=seconds, seed=seed, ja_offset_ms=1500,
                          check_voices=check_voices),
            timer,
        )  # fmt: skip
        wall = time.monotonic() - started
        timer.close()
        truth = json.loads(truth_path.read_text())
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    speech = {
        lang: sum(ln[lang]["end_ms"] - ln[lang]["start_ms"] for ln in truth["lines"]) / 1000
        for lang in ("ja", "en")
    }
    row: dict[str, object] = {
        "episode_seconds": seconds,
        "wall_seconds": round(wall, 1),
        "realtime_factor": round(wall / seconds, 3),
        "lines": len(truth["lines"]),
        "speech_seconds": speech,
        "steps_seconds": timer.steps,
        "output_megabytes": round(size / 1e6, 1),
    }
    if check_voices:
        row["voices"] = truth.get("voices")
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", default="120", help="comma-separated lengths (120,1440)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check-voices", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("bench/out/sample.json"))
    args = parser.parse_args()
    rows = []
    for value in args.seconds.split(","):
        row = run(float(value), args.seed, args.check_voices)
        print(json.dumps(row), file=sys.stderr)
        rows.append(row)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {"machine_cores": 2, "peak_rss_megabytes": round(peak), "runs": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
