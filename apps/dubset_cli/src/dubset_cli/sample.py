"""`dubset sample`: generate a dubbed test episode pair with its ground truth."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dubset_cli.helpformat import RawDescriptionDefaultsFormatter
from dubset_cli.progress import Progress


def _noise(value: str) -> float | None:
    if value.lower() == "none":
        return None
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected dB or 'none', got {value!r}") from None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sample",
        help="a generated episode pair whose every line, speaker, timing and stem is known",
        description="Writes ja.mp4, en.mp4 (H.264 + AAC), show.json, truth.json and the clean\n"
        "stems (ja_dialogue.wav, en_dialogue.wav, backing.wav, ...) into --out. Same seed,\n"
        "same bytes. --shape makes the EN release differ from the JA one as real releases\n"
        "do (or adds subtitles as they come); truth.json then has `release` and the true\n"
        "JA-to-EN `time_map`.\n"
        "See docs/truth-format.md.",
        formatter_class=RawDescriptionDefaultsFormatter,
        epilog="release shapes (--shape, repeatable or comma-separated, combinable):\n"
        "  dual-mkv   also write episode.mkv: the JA video with Japanese (default), English\n"
        "             and English commentary audio tracks; its EN track on the JA timeline\n"
        "  surround   the EN release's audio is 5.1 AAC (dialogue in the centre channel)\n"
        "  card       a 3 s distributor card inserted into the EN release mid-episode\n"
        "  pal        the EN release runs 25/23.976 fast (pitch corrected, atempo)\n"
        "  pal-pitch  the same speed-up without pitch correction (resampled)\n"
        "  subs       also write en.ass (Actor = the speaking character), en.srt and ja.srt,\n"
        "             each cue shown 150-450 ms before its line and 300-800 ms after it, on\n"
        "             its release's timeline; with dual-mkv, episode.mkv also gets the English\n"
        "             ASS and a forced 'Signs & Songs' ASS stream after its audio tracks\n"
        "example: dubset sample --out ep --shape card,pal --shape dual-mkv,subs",
    )
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--seconds", type=float, default=120.0, help="program length (default 120)")
    p.add_argument("--characters", type=int, default=3, help="speaking characters (1-8)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--ja-offset-ms",
        type=int,
        default=0,
        help="JA time = EN time + offset: the releases' intros differ by this (default 0)",
    )
    p.add_argument("--overlap-rate", type=float, default=0.05, help="share of overlapping turns")
    p.add_argument(
        "--noise-db",
        type=_noise,
        default=None,
        help="add pink noise at this SNR (dB below the dialogue) to each mix; 'none' (default)",
    )
    p.add_argument("--episode", type=int, default=1, help="episode number (default 1)")
    p.add_argument(
        "--check-voices",
        action="store_true",
        help="measure the characters' speaker-embedding similarity (resemblyzer) into truth.json",
    )
    p.add_argument(
        "--shape",
        action="append",
        default=[],
        metavar="SHAPE[,SHAPE]",
        help="release shape(s): dual-mkv, surround, card, pal, pal-pitch, subs (see below)",
    )
    p.add_argument("--art-dir", type=Path, default=None, help="Ren'Py art (default: installed)")
    p.add_argument(
        "--librivox",
        action="store_true",
        help="instead: real human speech (LibriVox utterances of Debian pocketsphinx-testdata) "
        "as an English-only en_dialogue.wav + truth.json, to score ASR on human speech",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dubset_sample.art import ArtMissingError
    from dubset_sample.generate import SampleError, SampleOptions, generate
    from dubset_sample.librivox import build_librivox
    from dubset_sample.voices import VoiceError

    if args.librivox:
        if args.shape:
            print("dubset sample: --shape does not apply to --librivox", file=sys.stderr)
            return 2
        try:
            print(build_librivox(args.out))
        except (OSError, ValueError) as exc:
            print(f"dubset sample: {exc}", file=sys.stderr)
            return 2
        return 0
    opts = SampleOptions(
        out=args.out,
        seconds=args.seconds,
        characters=args.characters,
        seed=args.seed,
        ja_offset_ms=args.ja_offset_ms,
        overlap_rate=args.overlap_rate,
        noise_db=args.noise_db,
        episode=args.episode,
        check_voices=args.check_voices,
        art_dir=args.art_dir,
        shapes=tuple(args.shape),
    )
    progress = Progress()
    started = time.monotonic()
    try:
        truth = generate(opts, progress)
    except (SampleError, ArtMissingError, VoiceError, OSError) as exc:
        progress.close()
        print(f"dubset sample: {exc}", file=sys.stderr)
        return 2
    progress.close()
    print(
        f"dubset sample: wrote {truth.parent} in {time.monotonic() - started:.1f}s", file=sys.stderr
    )
    print(truth)
    return 0
