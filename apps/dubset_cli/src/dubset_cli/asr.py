"""`dubset asr`: speech recognition with word timestamps on a local audio file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dubset_asr.backends import BACKENDS, DEFAULT_BACKEND, load_backend
from dubset_asr.core.jsonio import dumps
from dubset_asr.core.model import (
    LANGUAGES,
    AsrInputError,
    BackendFailedError,
    DecodeOptions,
    ModelUnavailableError,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "asr",
        help="transcribe audio into segments with word timestamps (JSON on stdout)",
        description="Transcribe one audio file (normally a dialogue stem; WAV/FLAC/MP3 or, "
        "with ffmpeg, any container). Prints {language, segments: [{start_ms, end_ms, text, "
        "words: [{start_ms, end_ms, text, confidence}]}]} with times in the file's timeline.",
    )
    p.add_argument("file", type=Path, help="audio (or video) file")
    p.add_argument("--lang", required=True, choices=LANGUAGES, help="spoken language")
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default=DEFAULT_BACKEND,
        help=f"recogniser (default {DEFAULT_BACKEND}); aws-transcribe reads DUBSET_ASR_AWS_*",
    )
    p.add_argument(
        "--model",
        default="",
        help="faster-whisper model name under $DUBSET_MODEL_DIR (default: base, the embedded one)",
    )
    p.add_argument(
        "--model-dir", type=Path, default=None, help="a CTranslate2 Whisper model directory"
    )
    p.add_argument(
        "--no-vad",
        action="store_true",
        help="decode silences and music too (off by default: they produce hallucinated text)",
    )
    p.add_argument("--beam-size", type=int, default=5, help="beam width (default 5)")
    p.add_argument("--initial-prompt", default="", help="text to condition the first window on")
    p.add_argument("--progress", action="store_true", help="progress lines on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    def hook(fraction: float, message: str) -> None:
        if args.progress:
            print(f"dubset asr: {fraction:4.0%} {message}", file=sys.stderr, flush=True)

    try:
        if not 1 <= args.beam_size <= 20:
            raise AsrInputError("--beam-size must be between 1 and 20")
        if not args.file.is_file():
            raise AsrInputError(f"{args.file}: no such file")
        backend = load_backend(args.backend, args.model, args.model_dir)
        options = DecodeOptions(
            beam_size=args.beam_size, vad=not args.no_vad, initial_prompt=args.initial_prompt
        )
        transcript = backend.transcribe(args.file, args.lang, options, hook)
    except (AsrInputError, ModelUnavailableError, BackendFailedError) as exc:
        print(f"dubset asr: {exc}", file=sys.stderr)
        return 2
    sys.stdout.buffer.write(dumps(transcript))
    sys.stdout.flush()
    return 0
