"""Clip quality per release shape: `dubset run` on each shape of one episode, scored against its
truth beside the plain pair's (issue 20's bar: clip F1 within 0.05 of the plain pair's).

Used by releases_bench.py --quality; each shape is a whole embedded run (no baseline dub).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from dubset_cli.main import main as dubset
from dubset_eval.evaluate import evaluate
from dubset_sample.generate import SampleOptions, generate

# Each shape the issue names: one dual-audio MKV (5.1 dub), a 5.1 dub, a card inserted, PAL
# speed-ups without and with pitch correction, and an English subtitle track in the MKV.
QUALITY_SHAPES = ("", "dual-mkv,surround", "surround", "card", "pal-pitch", "pal", "dual-mkv,subs")
OFFSET_MS = 1500


def english_subtitle_stream(mkv: Path) -> int:
    """The index of the MKV's English text subtitle stream that is not forced (signs)."""
    ffprobe = shutil.which("ffprobe") or "ffprobe"
    out = subprocess.run(
        [ffprobe, "-v", "error", "-show_streams", "-of", "json", str(mkv)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    for stream in json.loads(out)["streams"]:
        tags, disposition = stream.get("tags", {}), stream.get("disposition", {})
        if (
            stream.get("codec_type") == "subtitle"
            and tags.get("language") == "eng"
            and not disposition.get("forced")
        ):
            return int(stream["index"])
    raise RuntimeError(f"{mkv} has no English subtitle stream")


def run_args(folder: Path, shapes: tuple[str, ...]) -> list[str]:
    """`dubset run` arguments naming the release (and its subtitles) as a user would."""
    if "dual-mkv" in shapes:
        mkv = folder / "episode.mkv"
        subs = ["--en-subs-track", str(english_subtitle_stream(mkv))] if "subs" in shapes else []
        return ["--episode", str(mkv), *subs]
    subs = ["--en-subs", str(folder / "en.ass")] if "subs" in shapes else []
    return ["--ja", str(folder / "ja.mp4"), "--en", str(folder / "en.mp4"), *subs]


def quality_row(shape: str, seconds: float, seed: int, tmp: Path) -> dict[str, object]:
    """One shape's run: clip P/R/F1, EN WER and JA CER of the dataset, and the run's wall."""
    name = shape.replace(",", "+") or "plain"
    shapes = tuple(s for s in shape.split(",") if s)
    folder, out = tmp / f"q-{name}", tmp / f"q-{name}-run"
    generate(
        SampleOptions(out=folder, seconds=seconds, seed=seed, ja_offset_ms=OFFSET_MS, shapes=shapes)
    )
    args = ["run", *run_args(folder, shapes), "--show", str(folder / "show.json")]
    started = time.monotonic()
    if dubset([*args, "--out", str(out), "--no-tts"]) != 0:
        raise RuntimeError(f"dubset run failed on the {name} release")
    wall = time.monotonic() - started
    truth = folder / ("episode.truth.json" if "dual-mkv" in shapes else "truth.json")
    report = evaluate(truth, out)
    (clips,) = [r.score for r in report.clips if "anim400k_annotations" in r.source]
    rates = {r.language: r.counts.rate for r in report.asr if "anim400k_annotations" in r.source}
    return {
        "shape": shape or "plain",
        "episode_seconds": seconds,
        "run_wall_s": round(wall, 1),
        "clip_f1": clips.f1,
        "clip_precision": clips.precision,
        "clip_recall": clips.recall,
        "en_wer": rates.get("en"),
        "ja_cer": rates.get("ja"),
    }


def with_gaps(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Each row with f1_below_plain: the plain pair's clip F1 less its own."""
    plain = next((r["clip_f1"] for r in rows if r["shape"] == "plain"), None)
    out = []
    for row in rows:
        f1 = row["clip_f1"]
        gap = None
        if isinstance(plain, float) and isinstance(f1, float):
            gap = round(plain - f1, 4)
        out.append({**row, "f1_below_plain": gap})
    return out
