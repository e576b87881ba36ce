"""`dubset render`: the render stage on local files."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from dubset.v1 import render_pb2
from dubset_cli.localstage import run_stage, save
from dubset_cli.progress import Progress
from dubset_common.errors import DubsetError
from dubset_render.handler import MAX_INPUT_BYTES, RenderStage


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "render",
        help="mix a dub's speech over the episode's bed and add it to the video as English",
        description="The speech (dubset speak) over the music and effects (the original less "
        "--ja-dialogue, the separated Japanese dialogue; without it the original ducked under "
        "the Japanese lines), loudness-matched and true-peak limited, added to the untouched "
        "video and Japanese track as an English track, with the spoken English subtitles.",
    )
    p.add_argument("--video", required=True, type=Path, help="the episode (MKV, MP4)")
    p.add_argument("--speech", required=True, type=Path, help="the speech track (WAV)")
    p.add_argument("--lines", required=True, type=Path, help="lines.json of dubset speak")
    p.add_argument("--ja-dialogue", type=Path, help="the separated Japanese dialogue (WAV)")
    p.add_argument("--translation", type=Path, help="translation.json (JA texts in the report)")
    p.add_argument("--ja-track", type=int, default=0, help="the Japanese audio stream index")
    p.add_argument("--duck-db", type=float, default=-18.0, help="without --ja-dialogue (dB)")
    p.add_argument(
        "--bed-duck-db", type=float, default=-18.0, help="with --ja-dialogue, under the lines (dB)"
    )
    p.add_argument("--bitrate", type=int, default=192, help="the English track's kbps")
    p.add_argument("--out", required=True, type=Path, help="the dubbed episode (.mkv or .mp4)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    progress = Progress()
    container = args.out.suffix.lstrip(".").lower()
    try:
        if container not in ("mkv", "mp4"):
            raise DubsetError(f"--out {args.out}: write a .mkv or an .mp4")
        params = render_pb2.RenderParams(
            container=container, audio_bitrate_kbps=args.bitrate, duck_db=args.duck_db,
            ja_stream_index=args.ja_track, bed_duck_db=args.bed_duck_db,
        )  # fmt: skip
        inputs = {"video": args.video, "speech": args.speech, "lines": args.lines,
                  "ja_dialogue": args.ja_dialogue, "translation": args.translation}  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="dubset-render-") as tmp:
            result, store = run_stage(
                RenderStage(), params, inputs, Path(tmp), progress, MAX_INPUT_BYTES
            )
            save(store, result.outputs["video"], args.out)
            report = save(store, result.outputs["report"], args.out.with_suffix(".report.json"))
            srt = save(store, result.outputs["subtitles"], args.out.with_suffix(".srt"))
    except DubsetError as exc:
        print(f"dubset render: {exc}", file=sys.stderr)
        return 2
    finally:
        progress.close()
    print(f"{args.out} (report {report}, subtitles {srt})", file=sys.stderr)
    return 0
