"""`dubset quality`: the quality stage on local files (a packaged episode's fragment, the
separation stems, the ASR transcripts and the diarization turns)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from dubset_quality.handler import MAX_INPUT_BYTES, QualityStage

from dubset.v1 import quality_pb2
from dubset_cli.localstage import run_stage, save
from dubset_cli.progress import Progress
from dubset_common.errors import DubsetError

INPUTS = (
    ("episode", "the episode fragment packaging wrote (datasets/NAME/episodes/ID.json)"),
    ("ja-dialogue", "the JA dialogue stem (dubset separate)"),
    ("en-dialogue", "the EN dialogue stem"),
    ("ja", "the JA transcript.json (dubset asr)"),
    ("en", "the EN transcript.json"),
    ("ja-turns", "the JA turns.json (dubset diarize)"),
    ("en-turns", "the EN turns.json"),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "quality",
        help="per clip pair DNSMOS, overlap, re-ASR agreement ... and a quality score",
        description="Scores every clip pair of a packaged episode: DNSMOS P.835 of each "
        "language's dialogue, speech overlap, JA/EN duration ratio, ASR word confidence, "
        "agreement of a second recognition of the cut clip with its text, music level under "
        "the English dialogue, and one quality score (docs/quality.md). Writes the quality "
        "fragment as JSON to --out.",
    )
    for name, help_text in INPUTS:
        p.add_argument(f"--{name}", required=True, type=Path, help=help_text)
    p.add_argument("--en-backing", type=Path, help="the EN music-and-effects stem (music level)")
    p.add_argument("--out", required=True, type=Path, help="where the quality JSON goes")
    p.add_argument("--no-reasr", action="store_true", help="skip the second recognition")
    p.add_argument("--no-dnsmos", action="store_true", help="skip DNSMOS")
    p.add_argument("--asr-model", default="", help="the second recognition's model (base)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    progress = Progress()
    params = quality_pb2.QualityParams(
        dataset="local", reasr=not args.no_reasr, dnsmos=not args.no_dnsmos,
        asr_model=args.asr_model,
    )  # fmt: skip
    inputs = {name.replace("-", "_"): getattr(args, name.replace("-", "_")) for name, _ in INPUTS}
    inputs["en_backing"] = args.en_backing
    try:
        with tempfile.TemporaryDirectory(prefix="dubset-quality-") as work:
            result, store = run_stage(
                QualityStage(), params, inputs, Path(work), progress, MAX_INPUT_BYTES
            )
            save(store, result.outputs["quality"], args.out)
    except (DubsetError, OSError) as exc:
        progress.close()
        print(f"dubset quality: {exc}", file=sys.stderr)
        return 2
    progress.close()
    print(f"quality  {args.out}")
    return 0
