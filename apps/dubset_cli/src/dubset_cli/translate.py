"""`dubset translate`: the translation stage on local files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dubset.v1 import translation_pb2
from dubset_common.errors import DubsetError
from dubset_translation.convert import params_from_proto
from dubset_translation.core.jsonio import dumps, parse_segments, parse_turns, parse_words
from dubset_translation.core.lines import ja_lines
from dubset_translation.core.model import SOURCES, TranslationInputError
from dubset_translation.handler import run_translation

MAX_FILE_BYTES = 64 * 1024 * 1024


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "translate",
        help="Japanese lines into English lines that fit their time (dubbing)",
        description="Each Japanese line of a transcript becomes an English line with its time "
        "budget (up to the next line): from official subtitles (--subs), by Whisper speech "
        "translation of the audio (--audio), or by an OpenAI-compatible server (--endpoint).",
    )
    p.add_argument("--ja", required=True, type=Path, help="the Japanese transcript.json")
    p.add_argument("--turns", type=Path, help="the Japanese diarization turns.json (speakers)")
    p.add_argument("--subs", type=Path, help="English subtitles (SRT, ASS, WebVTT) of the video")
    p.add_argument("--audio", type=Path, help="the Japanese dialogue audio (whisper backend)")
    p.add_argument(
        "--backend", choices=SOURCES, help="default: subtitles with --subs, else whisper"
    )
    p.add_argument("--model", default="", help="whisper model name, or the server's model")
    p.add_argument("--endpoint", default="", help="openai: base URL, e.g. http://host:8080/v1")
    p.add_argument("--api", choices=("chat", "completions"), default="chat", help="openai API")
    p.add_argument("--api-key-file", type=Path, help="openai: a file holding the API key")
    p.add_argument(
        "--speech-rate", type=float, default=0.0, help="syllables per second (default 5.0)"
    )
    p.add_argument("--out", type=Path, help="translation.json (default: stdout)")
    p.set_defaults(func=run)


def _read(path: Path, what: str) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise TranslationInputError(f"{what} {path} is over {MAX_FILE_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise TranslationInputError(f"{what} {path}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    try:
        params = params_from_proto(
            translation_pb2.TranslationParams(
                backend=args.backend or "", model=args.model, speech_rate=args.speech_rate,
                endpoint=args.endpoint, api=args.api,
            )
        )  # fmt: skip
        turns = parse_turns(_read(args.turns, "turns")) if args.turns else []
        transcript = _read(args.ja, "transcript")
        lines = ja_lines(parse_segments(transcript), turns, parse_words(transcript))
        subtitles = _read(args.subs, "subtitles") if args.subs else None
        if args.audio is not None and not args.audio.is_file():
            raise TranslationInputError(f"audio {args.audio} is not a file")
        audio = (lambda: args.audio) if args.audio is not None else None
        key = (
            _read(args.api_key_file, "API key file").decode().strip() if args.api_key_file else None
        )
        t, backend = run_translation(params, lines, subtitles, audio, None, key)
    except (TranslationInputError, DubsetError) as exc:
        print(f"dubset translate: {exc}", file=sys.stderr)
        return 2
    data = dumps(t, backend)
    if args.out is None:
        sys.stdout.buffer.write(data)
    else:
        args.out.write_bytes(data)
        fits = sum(1 for line in t.lines if line.en_text and line.fits)
        print(f"{len(t.lines)} lines, {fits} fit their time ({backend}) -> {args.out}",
              file=sys.stderr)  # fmt: skip
    return 0
