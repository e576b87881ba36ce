"""`dubset diarize`: speaker turns of a local audio file, JSON on stdout."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from dubset_cli.progress import Progress
from dubset_common.errors import DubsetError
from dubset_diarization.config import BACKENDS, DiarizationConfig
from dubset_diarization.core.jsonio import dumps, rttm
from dubset_diarization.core.model import DiarizationInputError, SpeakerBounds
from dubset_diarization.handler import Backends


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "diarize",
        help="who speaks when: speaker turns with episode-level ids",
        description="Speaker turns of one audio file (WAV/FLAC/OGG, any rate, any channels) as "
        'JSON {"language", "turns": [{start_ms, end_ms, speaker}], "speakers"} on stdout. '
        "The number of speakers is estimated unless given. Overlapped speech is not modelled "
        "by the embedded backend.",
    )
    p.add_argument("file", type=Path, help="audio file, normally a dialogue stem")
    p.add_argument("--lang", choices=["ja", "en"], help="language carried into the output")
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="embedded",
        help="embedded: Silero VAD + Resemblyzer + clustering (default); pyannote: a "
        "pyannote.audio pipeline from --model-dir",
    )
    p.add_argument("--num-speakers", type=int, help="the number of speakers, when known")
    p.add_argument("--min-speakers", type=int, help="lower bound for the estimate")
    p.add_argument("--max-speakers", type=int, help="upper bound for the estimate")
    p.add_argument(
        "--model-dir", type=Path, help="pyannote: directory holding config.yaml and checkpoints"
    )
    p.add_argument("--rttm", type=Path, help="also write the turns as RTTM to this file")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    progress = Progress() if not args.quiet else None

    def hook(fraction: float, message: str) -> None:
        if progress is not None:
            progress("diarize", fraction)

    try:
        bounds = SpeakerBounds(args.num_speakers, args.min_speakers, args.max_speakers)
        if not args.file.is_file():
            raise DiarizationInputError(f"{args.file}: no such file")
        backends = Backends(DiarizationConfig(backend=args.backend))
        with tempfile.TemporaryDirectory() as tmp:
            result = backends.run(
                args.file,
                args.backend,
                bounds,
                model_dir=args.model_dir,
                workdir=Path(tmp),
                hook=hook,
            )
        if args.rttm is not None:
            args.rttm.write_bytes(rttm(result.diarization, args.file.stem))
    except (DubsetError, DiarizationInputError) as exc:
        if progress is not None:
            progress.close()
        print(f"dubset diarize: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"dubset diarize: {exc}", file=sys.stderr)
        return 2
    if progress is not None:
        progress.close()
    sys.stdout.buffer.write(dumps(result.diarization, args.lang))
    sys.stdout.flush()
    return 0
