"""`dubset probe`, `dubset extract`, `dubset offset`: the media stage on local files."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from dubset_common.tools import ToolError
from dubset_media.core.model import (
    DEFAULT_MAX_OFFSET_MS,
    DEFAULT_SAMPLE_RATE_HZ,
    MediaInputError,
)
from dubset_media.core.offset import require_same_episode
from dubset_media.core.tracks import select_track
from dubset_media.extraction import extract, inspect
from dubset_media.ffmpeg import Tools, probe
from dubset_media.handler import offset_of
from dubset_media.wavfile import read_info


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "probe",
        help="streams, durations and codecs of videos, checked as episode videos",
        description="ffprobe (local files only, plain containers only) and checks: a video and an "
        "audio stream, a duration between 1 s and 4 h, video that decodes at start and end.",
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--no-check", action="store_true", help="report only, do not validate")
    p.set_defaults(func=run_probe)

    p = sub.add_parser(
        "extract",
        help="one audio stream of a video as PCM WAV (16 kHz mono by default)",
        description="The track: --stream, else the main track tagged --language, else the only "
        "one. Surround is downmixed with the centre (dialogue) forward; ffmpeg streams to disk.",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--out", required=True, type=Path, help="WAV file to write")
    p.add_argument("--rate", type=int, default=DEFAULT_SAMPLE_RATE_HZ, help="Hz (default 16000)")
    p.add_argument("--channels", type=int, default=1, help="default 1 (mono)")
    p.add_argument("--stream", type=int, default=None, help="stream index (default: by language)")
    p.add_argument(
        "--language",
        choices=["ja", "en"],
        default="",
        help="the main track tagged with this language",
    )
    p.set_defaults(func=run_extract)

    p = sub.add_parser(
        "offset",
        help="JA-EN time offset of two releases from their shared music-and-effects bed",
        description="Prints {ja_offset_ms, confidence, same_episode, method, ...}: JA time = EN "
        "time + ja_offset_ms. Exit status 2 (with the estimate still printed) when the two "
        "files are not one episode.",
    )
    p.add_argument("ja", type=Path, metavar="JA", help="JA video or audio file")
    p.add_argument("en", type=Path, metavar="EN", help="EN video or audio file")
    p.add_argument(
        "--max-offset-ms", type=int, default=DEFAULT_MAX_OFFSET_MS, help="search window (±)"
    )
    p.set_defaults(func=run_offset)


def _print(value: object) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True) + "\n")
    sys.stdout.flush()


def _fail(command: str, exc: Exception) -> int:
    print(f"dubset {command}: {exc}", file=sys.stderr)
    return 2


def run_probe(args: argparse.Namespace) -> int:
    reports: list[object] = []
    failed = 0
    try:
        tools = Tools().resolve()
    except ToolError as exc:
        return _fail("probe", exc)
    for path in args.files:
        try:
            info = probe(path, tools) if args.no_check else inspect(path, tools)
            reports.append({"file": str(path), "ok": True, "info": asdict(info)})
        except MediaInputError as exc:
            failed += 1
            print(f"dubset probe: {exc}", file=sys.stderr)
            reports.append({"file": str(path), "ok": False, "error": str(exc)})
    _print(reports)
    return 2 if failed else 0


def run_extract(args: argparse.Namespace) -> int:
    try:
        if not 8000 <= args.rate <= 192_000 or not 1 <= args.channels <= 8:
            raise MediaInputError("--rate must be 8000..192000 and --channels 1..8")
        tools = Tools().resolve()
        info = probe(args.file, tools)
        track = select_track(info, args.language, args.stream)
        done = extract(
            args.file, info, track, args.out, tools, sample_rate_hz=args.rate,
            channels=args.channels,
        )  # fmt: skip
    except (MediaInputError, ToolError) as exc:
        return _fail("extract", exc)
    _print({k: str(v) if isinstance(v, Path) else v for k, v in asdict(done).items()})
    return 0


def _analysis_wav(path: Path, tmp: Path, lang: str, tools: Tools) -> Path:
    """A 16 kHz mono WAV of the file's audio (the file itself when it already is one)."""
    try:
        wav = read_info(path)
        if wav.channels == 1 and wav.sample_rate_hz == DEFAULT_SAMPLE_RATE_HZ:
            return path
    except (MediaInputError, OSError):
        pass
    out = tmp / f"{lang}.wav"
    info = probe(path, tools)
    extract(path, info, select_track(info, lang), out, tools)
    return out


def run_offset(args: argparse.Namespace) -> int:
    try:
        if args.max_offset_ms < 0:
            raise MediaInputError("--max-offset-ms must not be negative")
        tools = Tools().resolve()
        with tempfile.TemporaryDirectory(prefix="dubset-offset-") as tmp:
            ja = _analysis_wav(args.ja, Path(tmp), "ja", tools)
            en = _analysis_wav(args.en, Path(tmp), "en", tools)
            estimate = offset_of(en, ja, args.max_offset_ms)
    except (MediaInputError, ToolError) as exc:
        return _fail("offset", exc)
    _print(estimate.to_json())
    try:
        require_same_episode(estimate)
    except MediaInputError as exc:
        return _fail("offset", exc)
    return 0
