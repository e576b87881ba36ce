"""Held-out quality: the dataset pipeline on generated episodes nobody tuned a threshold on.

The episodes come from a seed range reserved for measuring (HELDOUT_FIRST_SEED and up): no
threshold of the pipeline may be tuned on them. Tuning uses seeds below TUNING_SEEDS_END
(docs/quality.md). The grid spreads the episodes over lengths of 1-5 minutes, 2-6 characters,
overlap rates 0-0.15, no noise or pink noise at 20 dB SNR and JA offsets of -0.4 to 1.5 s.

Per episode, as a user would run it:

    dubset sample --out EP --seconds S --characters C --seed N --overlap-rate O [--noise-db 20]
    dubset run --ja EP/ja.mp4 --en EP/en.mp4 --show EP/show.json --out RUN
               --no-video --no-tts --no-faces
    dubset eval --truth EP/truth.json --result RUN --json RUN/eval.json

and the report gives the distribution over episodes (median, p10, p90, worst) of clip F1,
clip boundary error (each episode's median), WER (EN), CER (JA), DER and speaker-count error
per language, and the quality stage's scores of all episodes' clip pairs pooled in deciles
with the share of correct pairs in each. Episodes are generated once into --work and reused;
every run starts from an empty RUN folder, so no finished stage of an older code is reused.
The real-speech fixtures (`dubset sample --librivox`: LibriVox utterances, WER) run with
--librivox.

Only the standard library: the pipeline runs in the venv through the `dubset` entry point.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DUBSET = ROOT / ".venv" / "bin" / "dubset"
HELDOUT_FIRST_SEED = 1_000_000  # seeds from here on are for measuring only
TUNING_SEEDS_END = 1_000_000  # thresholds are tuned on seeds below this
TUNING_FIRST_SEED = 500_000  # --tuning: the same grid from here, episodes t00, t01, ...
LENGTHS_S = (60, 90, 120, 180, 300)
OVERLAPS = (0.0, 0.05, 0.1, 0.15)
OFFSETS_MS = (0, 700, 1500, -400)
NOISE_DB = 20.0


@dataclass(frozen=True)
class Spec:
    """One held-out episode's generator settings."""

    name: str
    seed: int
    seconds: int
    characters: int
    overlap_rate: float
    noise_db: float | None
    ja_offset_ms: int

    def sample_args(self) -> list[str]:
        args = [
            "--seconds", str(self.seconds), "--characters", str(self.characters),
            "--seed", str(self.seed), "--overlap-rate", str(self.overlap_rate),
            "--ja-offset-ms", str(self.ja_offset_ms),
        ]  # fmt: skip
        return [*args, "--noise-db", str(self.noise_db)] if self.noise_db is not None else args


def grid(count: int, first_seed: int = HELDOUT_FIRST_SEED, prefix: str = "h") -> list[Spec]:
    """count episodes; the settings cycle with co-prime periods so combinations spread."""
    out = []
    for i in range(count):
        out.append(
            Spec(
                name=f"{prefix}{i:02d}",
                seed=first_seed + i,
                seconds=LENGTHS_S[i % len(LENGTHS_S)],
                characters=2 + (3 * i) % 5,
                overlap_rate=OVERLAPS[(i // 2) % len(OVERLAPS)],
                noise_db=NOISE_DB if i % 2 else None,
                ja_offset_ms=OFFSETS_MS[(i // 3) % len(OFFSETS_MS)],
            )
        )
    return out


def _run(argv: list[str], log: Path) -> tuple[int, float]:
    began = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        rc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    return rc, time.monotonic() - began


def _tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def generate(spec: Spec, episodes: Path) -> Path:
    """The episode, generated unless a complete one with these settings is there."""
    folder = episodes / spec.name
    stamp = folder / "heldout-spec.json"
    want = json.dumps(asdict(spec), sort_keys=True)
    if stamp.is_file() and stamp.read_text() == want and (folder / "truth.json").is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log = episodes / f"{spec.name}.sample.log"
    rc, _ = _run([str(DUBSET), "sample", "--out", str(folder), *spec.sample_args()], log)
    if rc != 0:
        raise SystemExit(f"dubset sample failed for {spec}:\n{_tail(log)}")
    stamp.write_text(want)
    return folder


def _dataset_row(rows: list[dict[str, object]]) -> dict[str, object] | None:
    """The row scored on the exported dataset, else the stage output's."""
    ds = [r for r in rows if str(r.get("source", "")).startswith("datasets/")]
    return (ds or rows or [None])[0]


def _by_language(rows: list[dict[str, object]], language: str) -> dict[str, object] | None:
    return _dataset_row([r for r in rows if r.get("language") == language])


def figures(report: dict[str, object]) -> dict[str, float | None]:
    """The protocol's figures of one episode's `dubset eval --json` report."""
    clips = _dataset_row(list(report.get("clips", [])))  # type: ignore[arg-type]
    out: dict[str, float | None] = {
        "clip_f1": clips.get("f1") if clips else None,  # type: ignore[dict-item]
        "clip_precision": clips.get("precision") if clips else None,  # type: ignore[dict-item]
        "clip_recall": clips.get("recall") if clips else None,  # type: ignore[dict-item]
        "boundary_p50_ms": clips.get("median_boundary_error_ms") if clips else None,  # type: ignore[dict-item]
    }
    for language, metric in (("en", "wer"), ("ja", "cer")):
        row = _by_language(list(report.get("asr", [])), language)  # type: ignore[arg-type]
        out[metric] = row.get("rate") if row else None  # type: ignore[assignment]
    for language in ("ja", "en"):
        row = _by_language(list(report.get("diarization", [])), language)  # type: ignore[arg-type]
        out[f"der_{language}"] = row.get("der") if row else None  # type: ignore[assignment]
        count = row.get("speaker_count_error") if row else None
        out[f"speaker_count_error_{language}"] = abs(count) if count is not None else None  # type: ignore[arg-type]
    return out


def scored_pairs(report: dict[str, object]) -> list[list[object]]:
    """[score, correct] of each clip pair the quality stage scored (eval's quality rows)."""
    out: list[list[object]] = []
    for r in report.get("quality", []):  # type: ignore[attr-defined]
        out += [[s, c] for s, c in zip(r["scores"], r["is_correct"], strict=True)]
    return out


def quality_deciles(rows: list[dict[str, object]], bins: int = 10) -> list[dict[str, object]]:
    """Every episode's scored pairs pooled, ranked by score, in up to `bins` groups: does the
    quality score predict a correct clip pair?"""
    pairs = sorted((p for r in rows for p in r.get("quality", [])), key=lambda p: p[0])  # type: ignore[attr-defined]
    count = min(bins, len(pairs))
    out = []
    for k in range(count):
        part = pairs[k * len(pairs) // count : (k + 1) * len(pairs) // count]
        correct = sum(1 for _, c in part if c)
        out.append({"low": part[0][0], "high": part[-1][0], "pairs": len(part),
                    "correct": correct, "share": round(correct / len(part), 3)})  # fmt: skip
    return out


def run_episode(spec: Spec, folder: Path, runs: Path, quality: bool = True) -> dict[str, object]:
    out = runs / spec.name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    argv = [
        str(DUBSET), "run", "--ja", str(folder / "ja.mp4"), "--en", str(folder / "en.mp4"),
        "--show", str(folder / "show.json"), "--out", str(out),
        "--no-video", "--no-tts", "--no-faces", *([] if quality else ["--no-quality"]),
    ]  # fmt: skip
    rc, wall = _run(argv, runs / f"{spec.name}.run.log")
    row: dict[str, object] = {"spec": asdict(spec), "run_rc": rc, "wall_s": round(wall, 1)}
    if rc != 0:
        row["error"] = _tail(runs / f"{spec.name}.run.log")
        return row
    eval_json = runs / f"{spec.name}.eval.json"
    erc, _ = _run(
        [str(DUBSET), "eval", "--truth", str(folder / "truth.json"), "--result", str(out),
         "--json", str(eval_json)],
        runs / f"{spec.name}.eval.log",
    )  # fmt: skip
    row["eval_rc"] = erc
    if eval_json.is_file():
        row["quality"] = scored_pairs(json.loads(eval_json.read_text()))
    if eval_json.is_file():
        row["figures"] = figures(json.loads(eval_json.read_text()))
    return row


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), standard library only."""
    ordered = sorted(values)
    at = (len(ordered) - 1) * q / 100
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


# Figure: higher is better (the worst is the minimum) or lower is better (the maximum).
HIGHER_IS_BETTER = {"clip_f1", "clip_precision", "clip_recall"}


def distribution(rows: list[dict[str, object]]) -> dict[str, dict[str, float | int]]:
    out: dict[str, dict[str, float | int]] = {}
    names = sorted({k for r in rows for k in r.get("figures", {})})  # type: ignore[attr-defined]
    for name in names:
        values = [
            float(v)
            for r in rows
            if (v := r.get("figures", {}).get(name)) is not None  # type: ignore[attr-defined]
        ]
        if not values:
            continue
        worst = min(values) if name in HIGHER_IS_BETTER else max(values)
        out[name] = {
            "n": len(values),
            "median": round(percentile(values, 50), 4),
            "p10": round(percentile(values, 10), 4),
            "p90": round(percentile(values, 90), 4),
            "worst": round(worst, 4),
        }
    return out


def librivox(work: Path) -> dict[str, object]:
    """WER of the recogniser on real human English read speech (LibriVox utterances)."""
    fixture = work / "episodes" / "librivox"
    if not (fixture / "truth.json").is_file():
        rc, _ = _run([str(DUBSET), "sample", "--librivox", "--out", str(fixture)],
                     work / "librivox.sample.log")  # fmt: skip
        if rc != 0:
            raise SystemExit(
                f"dubset sample --librivox failed:\n{_tail(work / 'librivox.sample.log')}"
            )
    result = work / "runs" / "librivox"
    shutil.rmtree(result, ignore_errors=True)
    (result / "asr").mkdir(parents=True)
    rc, wall = _run(
        [str(DUBSET), "asr", str(fixture / "en_dialogue.wav"), "--lang", "en",
         "--out", str(result / "asr" / "en.json")],
        work / "runs" / "librivox.asr.log",
    )  # fmt: skip
    if rc != 0:
        return {"error": _tail(work / "runs" / "librivox.asr.log")}
    eval_json = work / "runs" / "librivox.eval.json"
    _run([str(DUBSET), "eval", "--truth", str(fixture / "truth.json"), "--result", str(result),
          "--json", str(eval_json)], work / "runs" / "librivox.eval.log")  # fmt: skip
    report = json.loads(eval_json.read_text())
    row = _by_language(list(report.get("asr", [])), "en")
    return {"wer": row.get("rate") if row else None, "wall_s": round(wall, 1)}


def to_text(report: dict[str, object]) -> str:
    lines = [f"held-out episodes: {report['episodes']} (seeds {report['seeds']})", ""]
    lines.append(f"{'figure':<26}{'n':>4}{'median':>10}{'p10':>10}{'p90':>10}{'worst':>10}")
    for name, d in report["distribution"].items():  # type: ignore[attr-defined]
        lines.append(
            f"{name:<26}{d['n']:>4}{d['median']:>10.4g}{d['p10']:>10.4g}{d['p90']:>10.4g}"
            f"{d['worst']:>10.4g}"
        )
    lines.append("")
    lines.append(f"{'episode':<8}{'s':>5}{'ch':>4}{'ovl':>6}{'noise':>7}{'f1':>7}{'bnd':>7}"
                 f"{'wer':>7}{'cer':>7}{'derJA':>7}{'derEN':>7}{'wall':>7}")  # fmt: skip
    for row in report["rows"]:  # type: ignore[attr-defined]
        s, f = row["spec"], row.get("figures", {})

        def cell(key: str, scale: float = 1.0, f: dict[str, object] = f) -> str:
            v = f.get(key)
            return f" {float(v) * scale:>6.3g}" if v is not None else f" {'-':>6}"

        noise = "-" if s["noise_db"] is None else f"{s['noise_db']:g}"
        lines.append(
            f"{s['name']:<8}{s['seconds']:>5}{s['characters']:>4}{s['overlap_rate']:>6}"
            f"{noise:>7}{cell('clip_f1')}{cell('boundary_p50_ms')}{cell('wer')}{cell('cer')}"
            f"{cell('der_ja')}{cell('der_en')}{row['wall_s']:>7}"
            + (f"  FAILED: {row['error'].splitlines()[-1]}" if "error" in row else "")
        )
    if report.get("quality_deciles"):
        lines += ["", "quality score decile    score range  pairs  correct"]
        for k, d in enumerate(report["quality_deciles"], 1):  # type: ignore[arg-type]
            lines.append(f"{k:>20}  {d['low']:.3f}-{d['high']:.3f}  {d['pairs']:>5}"
                         f"  {d['share']:>7.0%}")  # fmt: skip
    if report.get("librivox"):
        lines.append(f"\nLibriVox (real read English speech): {report['librivox']}")
    return "\n".join(lines) + "\n"


def merge(paths: list[Path], out: Path) -> int:
    """The rows of several reports (each episode once: a later report's row wins) as one."""
    rows: dict[str, dict[str, object]] = {}
    librivox = None
    for path in paths:
        part = json.loads(path.read_text())
        rows |= {row["spec"]["name"]: row for row in part["rows"]}
        librivox = part.get("librivox") or librivox
    return write_report([rows[name] for name in sorted(rows)], librivox, out)


def write_report(
    rows: list[dict[str, object]], real: object, out: Path, tuning: bool = False
) -> int:
    """The report of these rows into out and as a table on stdout; 1 when an episode failed."""
    seeds = [int(r["spec"]["seed"]) for r in rows]  # type: ignore[index]
    report: dict[str, object] = {
        "range": "tuning" if tuning else "held-out",
        "episodes": len(rows),
        "seeds": f"{min(seeds)}..{max(seeds)}" if seeds else "",
        "tuning_seeds": f"below {TUNING_SEEDS_END}",
        "distribution": distribution(rows),
        "quality_deciles": quality_deciles(rows),
        "rows": rows,
        "librivox": real,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    sys.stdout.write(to_text(report))
    return 1 if any("error" in r for r in rows) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20, help="how many (default 20)")
    parser.add_argument("--first-seed", type=int, default=HELDOUT_FIRST_SEED)
    parser.add_argument(
        "--tuning",
        action="store_true",
        help=f"the tuning range instead (seeds {TUNING_FIRST_SEED} and up, episodes tNN,"
        " bench/out/tuning): where thresholds are chosen",
    )
    parser.add_argument("--no-quality", action="store_true", help="skip the quality stage")
    parser.add_argument("--only", help="comma-separated episode names (e.g. h00,h07)")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "heldout")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "heldout.json")
    parser.add_argument("--librivox", action="store_true", help="also the LibriVox WER")
    parser.add_argument(
        "--generate-only", action="store_true", help="generate the episodes, run nothing"
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        metavar="REPORT",
        help="instead: one report of the rows of these reports (the protocol run in parts)",
    )
    args = parser.parse_args(argv)
    if args.merge:
        return merge(args.merge, args.out)
    if args.tuning:
        specs = grid(args.episodes, TUNING_FIRST_SEED, prefix="t")
        if args.work == ROOT / "bench" / "out" / "heldout":
            args.work = ROOT / "bench" / "out" / "tuning"
        if args.out == ROOT / "bench" / "out" / "heldout.json":
            args.out = ROOT / "bench" / "out" / "tuning.json"
    elif args.first_seed < TUNING_SEEDS_END:
        parser.error(f"held-out seeds start at {TUNING_SEEDS_END}: below are for tuning")
    else:
        specs = grid(args.episodes, args.first_seed)
    if args.only:
        wanted = set(args.only.split(","))
        specs = [s for s in specs if s.name in wanted]
    episodes, runs = args.work / "episodes", args.work / "runs"
    episodes.mkdir(parents=True, exist_ok=True)
    runs.mkdir(parents=True, exist_ok=True)
    rows = []
    for n, spec in enumerate(specs, 1):
        print(f"[{n}/{len(specs)}] {spec.name}: generating ({spec.seconds} s, seed {spec.seed})",
              file=sys.stderr, flush=True)  # fmt: skip
        folder = generate(spec, episodes)
        if args.generate_only:
            continue
        print(f"[{n}/{len(specs)}] {spec.name}: dubset run", file=sys.stderr, flush=True)
        row = run_episode(spec, folder, runs, quality=not args.no_quality)
        rows.append(row)
        print(f"[{n}/{len(specs)}] {spec.name}: {row.get('figures', row.get('error'))}",
              file=sys.stderr, flush=True)  # fmt: skip
    if args.generate_only:
        return 0
    real = librivox(args.work) if args.librivox else None
    return write_report(rows, real, args.out, tuning=args.tuning)


if __name__ == "__main__":
    sys.exit(main())
