"""`dubset speak`: the tts stage dubbing a whole episode's lines on local files."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from dubset.v1 import tts_pb2
from dubset_cli.localstage import run_stage, save
from dubset_cli.progress import Progress
from dubset_common.errors import DubsetError
from dubset_tts.backends import BACKENDS
from dubset_tts.handler import MAX_INPUT_BYTES, TtsStage


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "speak",
        help="speak a translation: one voice per character, each line on its Japanese line",
        description="Every speaker of a translation.json (dubset translate) gets one English "
        "voice for the episode, different speakers different voices while the backend has "
        "enough; each line starts where its Japanese line starts and is fitted into its budget "
        "(time-stretched within bounds, cut where it still runs over).",
    )
    p.add_argument("--translation", required=True, type=Path, help="translation.json")
    p.add_argument("--ja-audio", type=Path, help="the Japanese dialogue (voice casting, length)")
    p.add_argument("--ja-turns", type=Path, help="the Japanese diarization turns.json")
    p.add_argument("--backend", choices=BACKENDS, default="piper", help="synthesizer")
    p.add_argument(
        "--voice",
        action="append",
        default=[],
        metavar="SPEAKER=VOICE",
        help="pin a speaker's voice (e.g. S0=festival:slt); repeatable",
    )
    p.add_argument("--model-dir", type=Path, help="yourtts: the model directory")
    p.add_argument("--sample-rate", type=int, default=24000, help="speech track rate (Hz)")
    p.add_argument("--out", required=True, type=Path, help="the speech track (WAV)")
    p.add_argument("--lines", type=Path, help="where to write lines.json (default: beside --out)")
    p.set_defaults(func=run)


def pins_of(values: list[str]) -> dict[str, str]:
    """--voice SPEAKER=VOICE values as a map."""
    pins = {}
    for value in values:
        speaker, sep, voice = value.partition("=")
        if not sep or not speaker or not voice:
            raise DubsetError(f"--voice {value!r}: use SPEAKER=VOICE")
        pins[speaker] = voice
    return pins


def run(args: argparse.Namespace) -> int:
    progress = Progress()
    try:
        params = tts_pb2.TtsParams(
            backend=args.backend, sample_rate_hz=args.sample_rate, voices=pins_of(args.voice),
            model_dir=str(args.model_dir.resolve()) if args.model_dir else "",
        )  # fmt: skip
        inputs = {"translation": args.translation, "ja_dialogue": args.ja_audio,
                  "ja_turns": args.ja_turns}  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="dubset-speak-") as tmp:
            result, store = run_stage(
                TtsStage(), params, inputs, Path(tmp), progress, MAX_INPUT_BYTES
            )
            save(store, result.outputs["speech"], args.out)
            lines = args.lines or args.out.with_suffix(".lines.json")
            save(store, result.outputs["lines"], lines)
    except DubsetError as exc:
        print(f"dubset speak: {exc}", file=sys.stderr)
        return 2
    finally:
        progress.close()
    doc = json.loads(lines.read_text())
    unfit = sum(1 for x in doc["lines"] if not x["fits"])
    print(f"{len(doc['lines'])} lines spoken ({unfit} over their time) by "
          f"{len(doc['voices'])} voices -> {args.out}, {lines}", file=sys.stderr)  # fmt: skip
    return 0
