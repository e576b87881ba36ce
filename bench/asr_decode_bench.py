"""How Whisper decoding could be cheaper: the embedded model (faster-whisper base, int8, two
threads) on a generated episode's dialogue stems, the asr stage's way (beam 5, word times,
Silero VAD filter, conditioned on the previous text) against cheaper settings, each timed and
scored (WER EN, CER JA against the truth). Issue 24's "measure first" for the asr stage.

    .venv/bin/python bench/asr_decode_bench.py --episode bench/out/heldout/episodes/h04 \\
        --stems RUN/stages/separation/<key> --out bench/out/asr_decode.json

Variants: stage (as the stage decodes), greedy (beam 1), batched (faster-whisper's
BatchedInferencePipeline over VAD chunks, batch 8, beam 5), batched-greedy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.vad import VadOptions

from dubset_asr.assemble import default_base_dir
from dubset_asr.audio import stream_16k
from dubset_eval.text import cer, wer
from dubset_eval.truth import load_truth

VARIANTS = ("stage", "greedy", "batched", "batched-greedy")


def decode(model: WhisperModel, audio: np.ndarray, language: str, variant: str) -> list[str]:
    kw: dict[str, object] = {
        "language": language, "task": "transcribe", "temperature": [0.0],
        "word_timestamps": True, "vad_filter": True, "vad_parameters": VadOptions(),
        "beam_size": 1 if variant.endswith("greedy") else 5,
    }  # fmt: skip
    if variant.startswith("batched"):
        segments, _ = BatchedInferencePipeline(model).transcribe(audio, batch_size=8, **kw)
    else:
        segments, _ = model.transcribe(audio, condition_on_previous_text=True, **kw)
    return [s.text.strip() for s in segments]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episode", type=Path, required=True, help="dubset sample's folder")
    parser.add_argument("--stems", type=Path, required=True, help="the separation's folder")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--out", type=Path, default=Path("bench/out/asr_decode.json"))
    args = parser.parse_args(argv)
    truth = load_truth(args.episode / "truth.json")
    model = WhisperModel(str(default_base_dir()), device="cpu", compute_type="int8",
                         cpu_threads=2, num_workers=1, local_files_only=True)  # fmt: skip
    rows = []
    for language in ("en", "ja"):
        audio = np.concatenate(list(stream_16k(args.stems / f"{language}_dialogue.wav")))
        seconds = audio.size / 16000
        lines = sorted(truth.spoken(language), key=lambda lu: lu[1].start_ms)
        ref = " ".join(u.text for _, u in lines)
        for variant in args.variants.split(","):
            began, cpu = time.perf_counter(), time.process_time()
            texts = decode(model, audio.astype(np.float32), language, variant)
            wall, cpu = time.perf_counter() - began, time.process_time() - cpu
            score = cer(ref, " ".join(texts)) if language == "ja" else wer(ref, " ".join(texts))
            row = {
                "language": language, "variant": variant, "audio_s": round(seconds, 1),
                "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "rtf": round(wall / seconds, 4),
                "error_rate": round(score.rate or 0.0, 4),
                "metric": "CER" if language == "ja" else "WER",
            }  # fmt: skip
            rows.append(row)
            print(json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"episode": str(args.episode), "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
