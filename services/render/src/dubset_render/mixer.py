"""The English track written block by block (memory does not grow with the episode): two
passes over 48 kHz WAVs, one to measure loudness, one to mix, limit and write."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from dubset_render.core.mixdown import Block, bed_block, duck_gain, mix_block
from dubset_render.core.model import Levels, RenderInputError
from dubset_voices.level import LoudnessMeter, limit_true_peak

BLOCK_S = 10
MARGIN_S = 0.05  # limiter context either side of a block
CEILING_DBTP = -1.0
DEFAULT_TARGET_LUFS = -24.0


def _read(f: sf.SoundFile, start: int, n: int) -> Block:
    """n frames from start (zeros outside the file), samples x channels, float32."""
    out = np.zeros((n, f.channels), np.float32)
    lo, hi = max(0, start), min(f.frames, start + n)
    if hi > lo:
        f.seek(lo)
        out[lo - start : hi - start] = f.read(hi - lo, dtype="float32", always_2d=True)
    return out


def _loudness(path: Path) -> float:
    with sf.SoundFile(path) as f:
        meter = LoudnessMeter(f.samplerate)
        for start in range(0, f.frames, BLOCK_S * f.samplerate):
            meter.add(_read(f, start, min(BLOCK_S * f.samplerate, f.frames - start)))
    return meter.integrated()


def render_track(
    original: Path,
    speech: Path,
    dialogue: Path | None,
    spans_ms: Sequence[tuple[int, int]],
    duck_db: float,
    out: Path,
    bed_duck_db: float = 0.0,
) -> Levels:
    """The English track: speech at the original dialogue's loudness over the bed (the
    original less the dialogue, lowered by bed_duck_db under the spans against what dialogue
    the separation left; or without one the original ducked by duck_db), true-peak limited."""
    target = _loudness(dialogue if dialogue is not None else original)
    if not np.isfinite(target):
        target = DEFAULT_TARGET_LUFS
    speech_lufs = _loudness(speech)
    gain_db = target - speech_lufs if np.isfinite(speech_lufs) else 0.0
    gain = float(10 ** (gain_db / 20))
    with sf.SoundFile(original) as orig, sf.SoundFile(speech) as sp:
        rate = orig.samplerate
        if sp.samplerate != rate:
            raise RenderInputError(f"speech at {sp.samplerate} Hz, the original at {rate}")
        dia = sf.SoundFile(dialogue) if dialogue is not None else None
        meter = LoudnessMeter(rate)
        margin, block = int(MARGIN_S * rate), BLOCK_S * rate
        with sf.SoundFile(out, "w", rate, orig.channels, "PCM_16") as dst:
            for start in range(0, orig.frames, block):
                n = min(block, orig.frames - start)
                a, m = start - margin, n + 2 * margin
                d = _read(dia, a, m)[:, 0] if dia is not None else None
                bed = bed_block(_read(orig, a, m), d)
                duck = duck_db if dia is None else bed_duck_db
                if duck < 0:
                    bed = bed * duck_gain(a, m, rate, spans_ms, duck)[:, None]
                mixed = mix_block(bed, _read(sp, a, m)[:, 0], gain)
                limited = limit_true_peak(mixed, rate, CEILING_DBTP)[margin : margin + n]
                meter.add(limited)
                dst.write(limited)
        if dia is not None:
            dia.close()
    kind = "ducked" if dialogue is None else "separated"
    if dialogue is not None and bed_duck_db < 0:
        kind = f"separated, {bed_duck_db:g} dB under the lines"
    return Levels(target, speech_lufs, gain_db, meter.integrated(), meter.true_peak_dbtp(), kind)
