"""Release shapes benchmark: the media stage on each `dubset sample --shape` release (one
dual-audio MKV, a 5.1 dub, a card inserted, PAL speed-ups), its wall time and its time map's
error against the truth; and the media stage's time on a long 5.1 pair. With --quality, a whole
`dubset run` of each shape scored against its truth beside the plain pair (release_quality.py).

    .venv/bin/python bench/releases_bench.py --seconds 120 --long-seconds 1440 --quality \
        --out bench/out/releases.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from prometheus_client import CollectorRegistry
from release_quality import QUALITY_SHAPES, quality_row, with_gaps

from dubset.v1 import media_pb2
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_common.timemap import TimeMap
from dubset_eval.timemaps import score_map
from dubset_media.handler import MediaStage
from dubset_sample.generate import SampleOptions, generate

SHAPES = ("", "dual-mkv", "surround", "card", "pal", "pal-pitch", "card,pal-pitch")


def media_run(folder: Path, one_file: bool, work: Path) -> tuple[float, dict[str, object]]:
    """The media stage on the episode in folder; (wall seconds, media.json)."""
    store = LocalStore(work / "store")
    metrics = StageMetrics.create(CollectorRegistry(), "media")
    executor = StageExecutor(MediaStage(), store, metrics, max_input_bytes=64 << 30)
    if one_file:
        ref = store.put_file("in/episode.mkv", folder / "episode.mkv", "video/x-matroska")
        refs = {"ja": ref, "en": ref}
    else:
        refs = {
            lang: store.put_file(f"in/{lang}.mp4", folder / f"{lang}.mp4", "video/mp4")
            for lang in ("ja", "en")
        }
    request = build_request("media", "bench", "bench", refs, media_pb2.MediaParams())
    started = time.monotonic()
    result = executor.execute(request)
    wall = time.monotonic() - started
    if result.error_message:
        raise RuntimeError(f"media failed: {result.error_message}")
    media = json.loads(store.get_bytes(store.key_of(result.outputs["media"].uri)))
    return wall, media


def shape_row(shape: str, seconds: float, seed: int, tmp: Path) -> dict[str, object]:
    folder = tmp / (shape.replace(",", "+") or "plain")
    shapes = tuple(s for s in shape.split(",") if s)
    generate(
        SampleOptions(out=folder, seconds=seconds, seed=seed, ja_offset_ms=1500, shapes=shapes)
    )
    # The MKV's EN track is on the JA timeline: it has its own truth.
    truth_file = "episode.truth.json" if "dual-mkv" in shapes else "truth.json"
    truth = json.loads((folder / truth_file).read_text())
    wall, media = media_run(folder, "dual-mkv" in shapes, tmp / f"work-{folder.name}")
    truth_map = (
        TimeMap.from_json(truth["time_map"])
        if "time_map" in truth
        else TimeMap.constant(1500, truth["duration_ms"]["ja"], truth["duration_ms"]["en"])
    )
    score = score_map(TimeMap.from_json(media["time_map"]), truth_map)
    return {
        "shape": shape or "plain",
        "episode_seconds": seconds,
        "media_wall_s": round(wall, 2),
        "pieces": score.pieces,
        "true_pieces": len(truth_map.pieces),
        "map_p50_error_ms": None if score.p50_ms is None else round(score.p50_ms, 1),
        "map_p95_error_ms": None if score.p95_ms is None else round(score.p95_ms, 1),
        "coverage": round(score.coverage, 4),
        "tracks": {lang: _track(media, lang) for lang in ("ja", "en")},
    }


def _track(media: dict[str, object], lang: str) -> str:
    audio = media.get("audio")
    entry = audio.get(lang) if isinstance(audio, dict) else None
    return str(entry.get("track", "")) if isinstance(entry, dict) else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="each shape's episode")
    parser.add_argument("--long-seconds", type=float, default=0.0, help="a long 5.1 pair; 0: skip")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--quality",
        action="store_true",
        help="also `dubset run` each shape and score its clips against the plain pair's",
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="dubset-releases-") as tmp:
        for shape in SHAPES:
            print(f"releases: {shape or 'plain'} ...", file=sys.stderr, flush=True)
            rows.append(shape_row(shape, args.seconds, args.seed, Path(tmp)))
            print(f"  {json.dumps(rows[-1])}", file=sys.stderr, flush=True)
        quality = []
        for shape in QUALITY_SHAPES if args.quality else ():
            print(f"releases: dubset run on {shape or 'plain'} ...", file=sys.stderr, flush=True)
            quality.append(quality_row(shape, args.seconds, args.seed, Path(tmp)))
            print(f"  {json.dumps(quality[-1])}", file=sys.stderr, flush=True)
        long_row = None
        if args.long_seconds:
            print(f"releases: a {args.long_seconds:.0f} s 5.1 pair ...", file=sys.stderr)
            long_row = shape_row("surround", args.long_seconds, args.seed, Path(tmp) / "long")
            print(f"  {json.dumps(long_row)}", file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "format": "dubset-bench-releases/1",
        "shapes": rows,
        "long_surround": long_row,
        "quality": with_gaps(quality),
    }
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
