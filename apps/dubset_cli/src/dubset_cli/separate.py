"""`dubset separate`: dialogue and backing stems per language from local audio files."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from pathlib import Path

from dubset_cli.progress import Progress
from dubset_separation.core.audio import AudioSource
from dubset_separation.core.model import (
    BACKENDS,
    BackendUnavailableError,
    SeparationInputError,
)
from dubset_separation.core.separate import separate
from dubset_separation.spleeter_backend import SpleeterSeparator

RESULT_FILE = "separation.json"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "separate",
        help="split JA/EN audio into dialogue and backing (music-and-effects) stems",
        description="Writes <lang>_dialogue.wav and <lang>_backing.wav (16-bit mono, the input's "
        "rate; dialogue + backing == the mono mixture) and separation.json. dualdub (default "
        "with both languages) uses the backing the two dubs share; repet and spleeter work on "
        "one track.",
    )
    p.add_argument("--ja", type=Path, help="JA audio (WAV/FLAC; any rate, channels averaged)")
    p.add_argument("--en", type=Path, help="EN audio, same")
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="",
        help="dualdub (both languages; default then), repet (default for one), spleeter",
    )
    p.add_argument(
        "--ja-offset-ms", type=int, default=0, help="JA time = EN time + offset (default 0)"
    )
    p.add_argument(
        "--model-dir",
        type=Path,
        help="spleeter: pretrained model directory holding 2stems/ (default "
        "$DUBSET_SPLEETER_MODEL_DIR)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    progress = Progress()
    try:
        with ExitStack() as stack:
            sources = {}
            for lang in ("ja", "en"):
                path: Path | None = getattr(args, lang)
                if path is not None:
                    if not path.is_file():
                        raise SeparationInputError(f"{path}: no such file")
                    sources[lang] = stack.enter_context(AudioSource(path, str(path)))
            external = None
            if args.backend == "spleeter":
                external = SpleeterSeparator.from_env(args.model_dir)
            args.out.mkdir(parents=True, exist_ok=True)
            result = separate(
                sources,
                args.out,
                backend=args.backend,
                ja_offset_ms=args.ja_offset_ms,
                external=external,
                hook=lambda fraction, message: progress("separate", fraction),
            )
    except (SeparationInputError, BackendUnavailableError) as exc:
        print(f"dubset separate: {exc}", file=sys.stderr)
        return 2
    finally:
        progress.close()
    text = json.dumps(result.to_json(), indent=2, sort_keys=True) + "\n"
    (args.out / RESULT_FILE).write_text(text)
    sys.stdout.write(text)
    return 0
