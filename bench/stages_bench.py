"""Per-stage benchmark: media, separation, ASR and diarization on test episodes, scored by eval.

Each stage runs as the pipeline would chain it, one `dubset` CLI subprocess per step under
`/usr/bin/time -v`:

    media        dubset probe ja.mp4 en.mp4; dubset extract (ja, en → 16 kHz mono WAV);
                 dubset offset ja.wav en.wav                       → media.json {"offset": ...}
    separation   dubset separate --ja ja.wav --en en.wav --ja-offset-ms <media's estimate>
                                                                   → <lang>_{dialogue,backing}.wav
    asr          dubset asr <lang>_dialogue.wav --lang <lang>      → asr/<lang>.json
    diarization  dubset diarize <lang>_dialogue.wav --lang <lang>  → diarization/<lang>.json

The outputs land in one result directory per episode, laid out for `dubset eval`, which then
scores them against the episode's truth.json. The report gives, per stage: wall seconds, CPU
seconds (user + system), audio seconds processed (both languages for media and separation), the
real-time factor (wall / audio) and the peak resident set size (of the largest process of the
step's tree, as `time -v` reports it; the maximum over steps for media); and the quality figures
of eval: offset error, SI-SDR and its improvement over the mixture per language and stem, WER
(en) / CER (ja), DER and speaker-count error per language. `--librivox` also transcribes the
LibriVox fixture (real human English speech) and scores its WER.

Only the standard library: the stages run in the venv through the `dubset` entry point.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DUBSET = ROOT / ".venv" / "bin" / "dubset"
TIME = Path("/usr/bin/time")
LANGS = ("ja", "en")
SEED = 0
JA_OFFSET_MS = 1500


@dataclass
class Step:
    """One timed subprocess."""

    name: str
    argv: list[str]
    rc: int = -1
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    stderr_tail: str = ""

    def to_json(self) -> dict[str, object]:
        value: dict[str, object] = {
            "step": self.name,
            "rc": self.rc,
            "wall_s": round(self.wall_s, 2),
            "cpu_s": round(self.cpu_s, 2),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "command": " ".join(self.argv),
        }
        if self.rc != 0:
            value["stderr_tail"] = self.stderr_tail
        return value


@dataclass
class StageRow:
    """A stage (one or more steps) with the audio it processed."""

    stage: str
    language: str
    audio_s: float
    steps: list[Step] = field(default_factory=list)
    skipped: str = ""

    @property
    def ok(self) -> bool:
        return not self.skipped and bool(self.steps) and all(s.rc == 0 for s in self.steps)

    @property
    def wall_s(self) -> float:
        return sum(s.wall_s for s in self.steps)

    @property
    def cpu_s(self) -> float:
        return sum(s.cpu_s for s in self.steps)

    @property
    def peak_rss_mb(self) -> float:
        return max((s.peak_rss_mb for s in self.steps), default=0.0)

    @property
    def rtf(self) -> float | None:
        return round(self.wall_s / self.audio_s, 4) if self.audio_s > 0 and self.ok else None

    def to_json(self) -> dict[str, object]:
        value: dict[str, object] = {
            "stage": self.stage,
            "language": self.language,
            "ok": self.ok,
            "wall_s": round(self.wall_s, 2),
            "cpu_s": round(self.cpu_s, 2),
            "audio_s": round(self.audio_s, 2),
            "rtf": self.rtf,
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "steps": [s.to_json() for s in self.steps],
        }
        if self.skipped:
            value["skipped"] = self.skipped
        return value


def _elapsed_seconds(text: str) -> float:
    """`time -v`'s "h:mm:ss" or "m:ss.ss" as seconds."""
    total = 0.0
    for part in text.strip().split(":"):
        total = total * 60 + float(part)
    return total


def parse_time_v(text: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) from the report of `/usr/bin/time -v`."""
    wall = cpu = rss_kb = 0.0
    for line in text.splitlines():
        key, _, value = line.strip().rpartition(": ")
        if key.startswith("Elapsed (wall clock)"):
            wall = _elapsed_seconds(value)
        elif key in ("User time (seconds)", "System time (seconds)"):
            cpu += float(value)
        elif key == "Maximum resident set size (kbytes)":
            rss_kb = float(value)
    return wall, cpu, rss_kb / 1024


def run_step(name: str, argv: list[str], stdout: Path | None, logs: Path) -> Step:
    """argv under `/usr/bin/time -v`; stdout to a file when given, stderr to logs/<name>.err."""
    logs.mkdir(parents=True, exist_ok=True)
    slug = name.replace(" ", "-")
    report = logs / f"{slug}.time"
    err = logs / f"{slug}.err"
    step = Step(name, argv)
    started = time.monotonic()
    with (
        open(stdout or logs / f"{slug}.out", "wb") as out,
        open(err, "wb") as errf,
    ):
        done = subprocess.run(
            [str(TIME), "-v", "-o", str(report), *argv], stdout=out, stderr=errf, check=False
        )
    step.rc = done.returncode
    measured = report.read_text(errors="replace") if report.exists() else ""
    step.wall_s, step.cpu_s, step.peak_rss_mb = parse_time_v(measured)
    if step.wall_s == 0.0:
        step.wall_s = time.monotonic() - started
    if step.rc != 0:
        step.stderr_tail = err.read_text(errors="replace")[-1500:]
    return step


def wav_seconds(path: Path) -> float:
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / w.getframerate()
    except (OSError, wave.Error, EOFError):
        return 0.0


def _dubset(*args: object) -> list[str]:
    return [str(DUBSET), *(str(a) for a in args)]


def _load_json(path: Path) -> dict[str, object] | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


# --- stages -------------------------------------------------------------------------------


def stage_media(episode: Path, result: Path, logs: Path) -> tuple[StageRow, int | None]:
    """probe + extract ja/en + offset; writes media/<lang>.wav and media.json."""
    audio_dir = result / "media"
    audio_dir.mkdir(parents=True, exist_ok=True)
    row = StageRow("media", "ja+en", 0.0)
    row.steps.append(
        run_step(
            "media probe", _dubset("probe", episode / "ja.mp4", episode / "en.mp4"), None, logs
        )
    )
    if not row.ok:
        return row, None
    extracted: dict[str, object] = {}
    for lang in LANGS:
        wav = audio_dir / f"{lang}.wav"
        argv = _dubset("extract", episode / f"{lang}.mp4", "--out", wav, "--language", lang)
        row.steps.append(
            run_step(f"media extract {lang}", argv, logs / f"extract-{lang}.json", logs)
        )
        if not row.ok:
            return row, None
        extracted[lang] = _load_json(logs / f"extract-{lang}.json")
        row.audio_s += wav_seconds(wav)
    argv = _dubset("offset", audio_dir / "ja.wav", audio_dir / "en.wav")
    row.steps.append(run_step("media offset", argv, logs / "offset.json", logs))
    estimate = _load_json(logs / "offset.json")
    if not row.ok or estimate is None:
        return row, None
    media = {"format": "dubset-media/1", "audio": extracted, "offset": estimate}
    (result / "media.json").write_text(json.dumps(media, indent=2, sort_keys=True) + "\n")
    offset = estimate.get("ja_offset_ms")
    return row, offset if isinstance(offset, int) else None


def stage_separation(result: Path, logs: Path, backend: str, offset_ms: int) -> StageRow:
    """dubset separate on the canonical WAVs into result/separation (separation.json to logs)."""
    audio = {lang: result / "media" / f"{lang}.wav" for lang in LANGS}
    row = StageRow("separation", "ja+en", sum(wav_seconds(p) for p in audio.values()))
    out = result / "separation"
    argv = _dubset(
        "separate",
        "--ja",
        audio["ja"],
        "--en",
        audio["en"],
        "--out",
        out,
        "--backend",
        backend,
        "--ja-offset-ms",
        offset_ms,
    )
    row.steps.append(run_step(f"separation {backend}", argv, logs / "separate.out", logs))
    # separation.json carries "ja_offset_ms" (our input, not an estimate): keep it out of eval.
    summary = out / "separation.json"
    if summary.exists():
        shutil.move(str(summary), logs / "separation.json")
    return row


def stage_asr(stem: Path, lang: str, out: Path, logs: Path, tag: str = "") -> StageRow:
    row = StageRow("asr", lang, wav_seconds(stem))
    out.parent.mkdir(parents=True, exist_ok=True)
    name = f"asr {tag or lang}"
    row.steps.append(run_step(name, _dubset("asr", stem, "--lang", lang), out, logs))
    return row


def stage_diarization(stem: Path, lang: str, out: Path, logs: Path) -> StageRow:
    row = StageRow("diarization", lang, wav_seconds(stem))
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = _dubset("diarize", stem, "--lang", lang, "--quiet")
    row.steps.append(run_step(f"diarization {lang}", argv, out, logs))
    return row


def skipped(stage: str, language: str, why: str) -> StageRow:
    return StageRow(stage, language, 0.0, skipped=why)


# --- eval ---------------------------------------------------------------------------------


def evaluate(truth: Path, result: Path, logs: Path) -> tuple[int, dict[str, object] | None]:
    report = logs / "eval.json"
    argv = _dubset("eval", "--truth", truth, "--result", result, "--json", report)
    with open(logs / "eval.txt", "wb") as out:
        rc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    return rc, _load_json(report)


def _rows(report: dict[str, object], key: str) -> list[dict[str, object]]:
    value = report.get(key)
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def _r(value: object, digits: int) -> object:
    return round(value, digits) if isinstance(value, float) else value


def quality(report: dict[str, object]) -> dict[str, object]:
    """The figures this benchmark tracks, out of eval's full report."""
    return {
        "offset": [
            {"result_ms": r.get("result_ms"), "truth_ms": r.get("truth_ms"),
             "error_ms": r.get("error_ms")}
            for r in _rows(report, "offsets")
        ],
        "separation": [
            {"language": r.get("language"), "stem": r.get("stem"),
             "si_sdr_db": _r(r.get("si_sdr_db"), 2),
             "mixture_si_sdr_db": _r(r.get("mixture_si_sdr_db"), 2),
             "improvement_db": _r(r.get("improvement_db"), 2)}
            for r in _rows(report, "separation")
        ],
        "asr": [
            {"language": r.get("language"), "metric": r.get("metric"), "rate": r.get("rate"),
             "n_ref": r.get("n_ref"), "substitutions": r.get("substitutions"),
             "deletions": r.get("deletions"), "insertions": r.get("insertions")}
            for r in _rows(report, "asr")
        ],
        "diarization": [
            {"language": r.get("language"), "der": r.get("der"), "miss_ms": r.get("miss_ms"),
             "false_alarm_ms": r.get("false_alarm_ms"), "confusion_ms": r.get("confusion_ms"),
             "hyp_speakers": r.get("hyp_speakers"), "ref_speakers": r.get("ref_speakers"),
             "speaker_count_error": r.get("speaker_count_error")}
            for r in _rows(report, "diarization")
        ],
        "problems": report.get("problems", []),
    }  # fmt: skip


# --- episodes -----------------------------------------------------------------------------


def generate(seconds: float, work: Path) -> tuple[Path, dict[str, object]]:
    """`dubset sample` into work/episodes (reused when the same episode is already there)."""
    label = f"{seconds:g}s-seed{SEED}-off{JA_OFFSET_MS}"
    out = work / "episodes" / label
    truth = _load_json(out / "truth.json")
    gen = truth.get("generator") if truth else None
    if isinstance(gen, dict) and gen.get("seconds") == seconds and gen.get("seed") == SEED:
        return out, {"seconds": seconds, "reused": True}
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = _dubset(
        "sample", "--out", out, "--seconds", f"{seconds:g}", "--seed", SEED,
        "--ja-offset-ms", JA_OFFSET_MS,
    )  # fmt: skip
    print(f"generating {label} ...", file=sys.stderr, flush=True)
    step = run_step(f"sample {label}", argv, None, work / "logs")
    if step.rc != 0:
        raise SystemExit(f"dubset sample failed ({step.rc}):\n{step.stderr_tail}")
    return out, {"seconds": seconds, "reused": False, "wall_s": round(step.wall_s, 1)}


def bench_episode(episode: Path, work: Path, backend: str) -> dict[str, object]:
    truth = _load_json(episode / "truth.json")
    if truth is None:
        raise SystemExit(f"{episode}: no readable truth.json")
    name = str(truth.get("episode_id", episode.name))
    base = work / "runs" / f"{episode.name}-{name}"
    shutil.rmtree(base, ignore_errors=True)
    result, logs = base / "result", base / "logs"
    result.mkdir(parents=True)
    rows: list[StageRow] = []

    def note(row: StageRow) -> StageRow:
        rows.append(row)
        state = "ok" if row.ok else (f"skipped ({row.skipped})" if row.skipped else "FAILED")
        print(
            f"  {row.stage:<11} {row.language:<5} {row.wall_s:7.1f} s  {state}",
            file=sys.stderr,
            flush=True,
        )
        return row

    print(f"episode {episode} ({name})", file=sys.stderr, flush=True)
    media, offset = stage_media(episode, result, logs)
    note(media)
    separated = False
    if offset is None:
        note(skipped("separation", "ja+en", "media failed"))
    else:
        separated = note(stage_separation(result, logs, backend, offset)).ok
    for lang in LANGS:
        stem = result / "separation" / f"{lang}_dialogue.wav"
        if separated:
            note(stage_asr(stem, lang, result / "asr" / f"{lang}.json", logs))
        else:
            note(skipped("asr", lang, "separation failed"))
    for lang in LANGS:
        stem = result / "separation" / f"{lang}_dialogue.wav"
        if separated:
            note(stage_diarization(stem, lang, result / "diarization" / f"{lang}.json", logs))
        else:
            note(skipped("diarization", lang, "separation failed"))
    eval_rc, report = evaluate(episode / "truth.json", result, logs)
    durations = truth.get("duration_ms")
    return {
        "episode": str(episode),
        "episode_id": name,
        "duration_ms": durations,
        "lines": len(truth["lines"]) if isinstance(truth.get("lines"), list) else None,
        "truth_ja_offset_ms": truth.get("ja_offset_ms"),
        "separation_backend": backend,
        "result_dir": str(result),
        "stages": [r.to_json() for r in rows],
        "eval_rc": eval_rc,
        "eval_report": str(logs / "eval.json"),
        "quality": quality(report) if report else None,
    }


def bench_librivox(work: Path) -> dict[str, object]:
    fixture = work / "episodes" / "librivox"
    if not (fixture / "truth.json").exists():
        step = run_step("sample librivox", _dubset("sample", "--librivox", "--out", fixture),
                        None, work / "logs")  # fmt: skip
        if step.rc != 0:
            raise SystemExit(f"dubset sample --librivox failed:\n{step.stderr_tail}")
    base = work / "runs" / "librivox"
    shutil.rmtree(base, ignore_errors=True)
    result, logs = base / "result", base / "logs"
    print(f"librivox {fixture}", file=sys.stderr, flush=True)
    row = stage_asr(fixture / "en_dialogue.wav", "en", result / "asr" / "en.json", logs, "librivox")
    print(f"  asr         en    {row.wall_s:7.1f} s  {'ok' if row.ok else 'FAILED'}",
          file=sys.stderr, flush=True)  # fmt: skip
    eval_rc, report = evaluate(fixture / "truth.json", result, logs)
    truth = _load_json(fixture / "truth.json") or {}
    return {
        "episode": str(fixture),
        "episode_id": truth.get("episode_id", "librivox"),
        "duration_ms": truth.get("duration_ms"),
        "result_dir": str(result),
        "stages": [row.to_json()],
        "eval_rc": eval_rc,
        "eval_report": str(logs / "eval.json"),
        "quality": quality(report) if report else None,
    }


# --- output -------------------------------------------------------------------------------


def _fmt(value: object, spec: str, missing: str = "-") -> str:
    return format(value, spec) if isinstance(value, int | float) else missing


def table(report: dict[str, object]) -> str:
    lines: list[str] = []
    episodes = report["episodes"]
    assert isinstance(episodes, list)
    runs = [*episodes, report["librivox"]] if report.get("librivox") else episodes
    header = f"  {'stage':<28}{'wall s':>8}{'cpu s':>8}{'audio s':>9}{'RTF':>8}{'peak MB':>9}"
    for ep in runs:
        assert isinstance(ep, dict)
        dur = ep.get("duration_ms")
        span = ""
        if isinstance(dur, dict):
            span = "  " + " ".join(f"{k} {v / 1000:.1f} s" for k, v in dur.items())
        lines.append(f"{ep.get('episode_id', 'librivox')}  ({ep['episode']}){span}")
        gen = ep.get("generated")
        if isinstance(gen, dict):
            made = "reused" if gen.get("reused") else f"generated in {gen.get('wall_s')} s"
            lines.append(f"  (dubset sample --seconds {gen.get('seconds'):g}: {made})")
        lines.append(header)
        for st in ep["stages"]:
            label = f"{st['stage']} {st['language']}"
            if not st["ok"]:
                label += " (skipped)" if st.get("skipped") else " FAILED"
            lines.append(
                f"  {label:<28}{st['wall_s']:>8.1f}{st['cpu_s']:>8.1f}{st['audio_s']:>9.1f}"
                f"{_fmt(st['rtf'], '.3f'):>8}{st['peak_rss_mb']:>9.0f}"
            )
            for step in st["steps"]:
                if step["rc"] != 0:
                    tail = step.get("stderr_tail", "").strip().splitlines() or ["(no stderr)"]
                    lines.append(f"    {step['step']} exit {step['rc']}: {tail[-1][:150]}")
            if st["stage"] == "media":
                for step in st["steps"]:
                    lines.append(
                        f"    {step['step'][6:]:<26}{step['wall_s']:>8.1f}{step['cpu_s']:>8.1f}"
                        f"{'':>9}{'':>8}{step['peak_rss_mb']:>9.0f}"
                    )
        q = ep.get("quality")
        if not isinstance(q, dict):
            lines += [f"  eval: no report (exit {ep.get('eval_rc')})", ""]
            continue
        for o in q["offset"]:
            lines.append(
                f"  offset      {o['result_ms']} ms (truth {o['truth_ms']}), "
                f"error {o['error_ms']} ms"
            )
        for s in sorted(q["separation"], key=lambda r: (str(r["language"]), str(r["stem"]))):
            lines.append(
                f"  SI-SDR      {s['language']} {s['stem']:<8} {_fmt(s['si_sdr_db'], '6.2f')} dB"
                f"  (mixture {_fmt(s['mixture_si_sdr_db'], '6.2f')}, "
                f"improvement {_fmt(s['improvement_db'], '+6.2f')})"
            )
        for a in sorted(q["asr"], key=lambda r: str(r["language"])):
            lines.append(
                f"  {a['metric']:<11} {a['language']}  {_fmt(a['rate'], '.2%')}"
                f"  ({a['n_ref']} ref units)"
            )
        for d in sorted(q["diarization"], key=lambda r: str(r["language"])):
            lines.append(
                f"  DER         {d['language']}  {_fmt(d['der'], '.2%')}  speakers "
                f"{d['hyp_speakers']}/{d['ref_speakers']} (error {d['speaker_count_error']:+d})"
                if isinstance(d["speaker_count_error"], int)
                else f"  DER         {d['language']}  {_fmt(d['der'], '.2%')}"
            )
        if q["problems"]:
            lines.append(f"  eval problems: {q['problems']}")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--episode", type=Path, action="append", default=[], help="episode directory (repeatable)"
    )
    parser.add_argument(
        "--generate",
        default="",
        metavar="SECONDS[,SECONDS]",
        help=f"generate episodes of these lengths (seed {SEED}, JA offset {JA_OFFSET_MS} ms)",
    )
    parser.add_argument("--librivox", action="store_true", help="also ASR on LibriVox (WER)")
    parser.add_argument("--separation-backend", choices=("dualdub", "repet"), default="dualdub")
    parser.add_argument("--out", type=Path, default=Path("bench/out/stages.json"))
    parser.add_argument(
        "--work",
        type=Path,
        help="keep episodes and stage outputs here (generated episodes are reused); "
        "default: a temporary directory, removed afterwards",
    )
    args = parser.parse_args()
    if not DUBSET.exists():
        parser.error(f"{DUBSET} is missing: run `make setup`")
    if not TIME.exists():
        parser.error(f"{TIME} is missing: apt-get install time")
    lengths = [float(s) for s in args.generate.split(",") if s.strip()]
    if not args.episode and not lengths and not args.librivox:
        parser.error("give --episode DIR, --generate SECONDS or --librivox")
    tmp = None
    if args.work is None:
        tmp = tempfile.TemporaryDirectory(prefix="dubset-stages-bench-")
        work = Path(tmp.name)
    else:
        work = args.work.resolve()
        work.mkdir(parents=True, exist_ok=True)
    try:
        episodes = [(p.resolve(), None) for p in args.episode]
        for seconds in lengths:
            path, info = generate(seconds, work)
            episodes.append((path, info))
        started = time.monotonic()
        runs = []
        for path, info in episodes:
            run = bench_episode(path, work, args.separation_backend)
            if info is not None:
                run["generated"] = info
            runs.append(run)
        librivox = bench_librivox(work) if args.librivox else None
        report: dict[str, object] = {
            "format": "dubset-bench-stages/1",
            "machine": {"cpus": os.cpu_count(), "loadavg_at_end": os.getloadavg()},
            "total_wall_s": round(time.monotonic() - started, 1),
            "episodes": runs,
            "librivox": librivox,
            "work": None if tmp else str(work),
        }
    finally:
        if tmp is not None:
            tmp.cleanup()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(table(report))
    print(f"report: {args.out}")
    all_runs = [*runs, librivox] if librivox else runs
    failed = [
        str(r["episode"])
        for r in all_runs
        if r["eval_rc"] != 0 or not all(st["ok"] for st in r["stages"])  # type: ignore[union-attr]
    ]
    if failed:
        print(f"failed stages or eval problems: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
