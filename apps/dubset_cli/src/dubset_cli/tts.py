"""`dubset tts`: the baseline English dub of one clip from local files."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

from dubset.v1 import tts_pb2
from dubset_cli.progress import Progress
from dubset_common.errors import InvalidInputError
from dubset_common.tools import ToolError
from dubset_tts.backends import BACKENDS
from dubset_tts.config import load_config
from dubset_tts.convert import TtsParams, params_from_proto
from dubset_tts.core.model import BackendUnavailableError, TtsInputError
from dubset_tts.encode import encode_batch, write_wav
from dubset_tts.fragment import scores_json
from dubset_tts.models import Models
from dubset_tts.single import OneClip, OneDub, dub_one
from dubset_tts.translation import TRANSLATORS

SUFFIXES = (".wav", ".mp3")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "tts",
        help="dub one clip in English (the Anim-400K baseline / MUSHRA anchor)",
        description="Speaks the text in a stock or cloned voice, time-fits it to the clip, levels "
        "it to the reference and mixes it over the backing. Writes a WAV (the chosen rate) or "
        "an mp3 (96 kbps, 44.1 kHz, mono, like the dataset's baseline clips); prints the "
        "voice, whether the speech fit, and the objective scores.",
    )
    p.add_argument("--text", default="", help="the English text to speak")
    p.add_argument("--ja-text", default="", help="the clip's Japanese text (recorded only)")
    p.add_argument(
        "--reference",
        type=Path,
        help="the speaker's original EN speech (WAV/FLAC): the voice to match; with "
        "--duration-ms also the clip's original, whose speech the dub replaces",
    )
    p.add_argument("--backing", type=Path, help="the clip's backing stem to mix under the dub")
    p.add_argument("--ja-audio", type=Path, help="the clip's JA speech (for --translation whisper)")
    p.add_argument(
        "--duration-ms",
        type=int,
        default=0,
        help="clip length to fit (default: the JA audio's length, else the natural speech's)",
    )
    p.add_argument("--backend", choices=BACKENDS, default="piper", help="synthesizer")
    p.add_argument("--voice", default="", help="backend voice (default: matched to --reference)")
    p.add_argument("--model-dir", type=Path, help="yourtts: the model directory")
    p.add_argument("--translation", choices=TRANSLATORS, default="reference")
    p.add_argument("--sample-rate", type=int, help="WAV output rate (default 44100)")
    p.add_argument("--no-fit", action="store_true", help="do not time-stretch the speech")
    p.add_argument("--no-scores", action="store_true", help="skip DNSMOS and speaker similarity")
    p.add_argument("--speech-out", type=Path, help="also write the dry speech here (WAV)")
    p.add_argument("--out", required=True, type=Path, help="the dub: .wav or .mp3")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def _params(args: argparse.Namespace) -> TtsParams:
    proto = tts_pb2.TtsParams(
        backend=args.backend,
        voice=args.voice,
        translation_backend=args.translation,
        fit_duration=not args.no_fit,
        compute_scores=not args.no_scores,
    )
    if args.sample_rate is not None:
        proto.sample_rate_hz = args.sample_rate
    try:
        params = params_from_proto(proto)
    except InvalidInputError as exc:
        raise TtsInputError(str(exc).removeprefix("tts params: ")) from None
    if args.model_dir is not None:
        if args.backend != "yourtts":
            raise TtsInputError("--model-dir is for --backend yourtts only")
        params = dataclasses.replace(params, model_dir=str(args.model_dir.resolve()))
    return params


def _check_files(args: argparse.Namespace) -> None:
    for flag in ("reference", "backing", "ja_audio"):
        path: Path | None = getattr(args, flag)
        if path is not None and not path.is_file():
            raise TtsInputError(f"--{flag.replace('_', '-')} {path}: no such file")
    for flag in ("out", "speech_out"):
        path = getattr(args, flag)
        if path is None:
            continue
        allowed = SUFFIXES if flag == "out" else (".wav",)
        if path.suffix.lower() not in allowed:
            raise TtsInputError(f"--{flag.replace('_', '-')} must end in {' or '.join(allowed)}")


def _write(one: OneDub, out: Path, speech_out: Path | None, tmp: Path) -> int:
    """Write the dub (and the dry speech); the dub's duration in ms."""
    mix = one.dub.mix
    out.parent.mkdir(parents=True, exist_ok=True)
    if speech_out is not None:
        write_wav(one.dub.speech.samples, one.dub.speech.rate, speech_out)
    if out.suffix.lower() == ".wav":
        write_wav(mix.samples, mix.rate, out)
        return mix.duration_ms
    wav = write_wav(mix.samples, mix.rate, tmp / "dub.wav")
    (mp3,) = encode_batch([(wav, tmp / "dub.mp3")], mix.duration_ms)
    mp3.path.replace(out)
    return mp3.duration_ms


def _report(one: OneDub, out: Path, duration_ms: int) -> dict[str, object]:
    return {
        "out": str(out),
        "duration_ms": duration_ms,
        "text": one.dub.text,
        "voice": one.dub.voice,
        "similarity": None if one.voice.similarity is None else round(one.voice.similarity, 4),
        "fits": one.dub.fits,
        "natural_duration_ratio": round(one.dub.natural_duration_ratio, 4),
        "scores": scores_json(one.dub.scores),
        "backend": one.backend,
        "translation_backend": one.translation_backend,
    }


def run(args: argparse.Namespace) -> int:
    progress = Progress()
    try:
        _check_files(args)
        params = _params(args)
        clip = OneClip(
            text=args.text,
            ja_text=args.ja_text,
            target_ms=args.duration_ms,
            reference=args.reference,
            backing=args.backing,
            ja_audio=args.ja_audio,
        )
        with tempfile.TemporaryDirectory(prefix="dubset-tts-") as tmp:
            one = dub_one(
                clip, params, Models(load_config()), Path(tmp), lambda f, _m: progress("tts", f)
            )
            duration_ms = _write(one, args.out, args.speech_out, Path(tmp))
    except (TtsInputError, BackendUnavailableError, ToolError) as exc:
        print(f"dubset tts: {exc}", file=sys.stderr)
        return 2
    finally:
        progress.close()
    report = _report(one, args.out, duration_ms)
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        return 0
    computed = scores_json(one.dub.scores)
    scores = ", ".join(f"{k} {v:g}" for k, v in sorted(computed.items())) or "not computed"
    print(f"wrote {args.out} ({duration_ms} ms)")
    print(
        f"voice: {one.dub.voice}"
        + (f" (similarity {one.voice.similarity:.2f})" if one.voice.similarity is not None else "")
    )
    print(
        f"fits: {'yes' if one.dub.fits else 'no'} "
        f"(natural/target {one.dub.natural_duration_ratio:.2f})"
    )
    print(f"scores: {scores}")
    return 0
