"""Every clip pair's signals: the pure ones (core/signals.py) on the transcripts and turns, and
those that need the audio and models (DNSMOS, the second recognition, music level) on the
windows of the separation stems."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dubset_asr.core.words import joiner
from dubset_quality.audio import RATE, Stem
from dubset_quality.core.doc import rounded
from dubset_quality.core.model import LANGUAGES, Pair, Turn, Word
from dubset_quality.core.packing import Window, assign, pack
from dubset_quality.core.score import score
from dubset_quality.core.signals import (
    FloatArray,
    agreement,
    duration_ratio,
    mean_confidence,
    music_db,
    overlap_share,
)
from dubset_quality.recognize import Recognizer

Hook = Callable[[float, str], None]
MIN_DNSMOS_MS = 500  # DNSMOS of a shorter window says little; the clip is scored without it


class Scorer(Protocol):
    """DNSMOS overall of mono float audio at a rate (dubset_voices.dnsmos.Dnsmos)."""

    def ovrl_clip(self, samples: FloatArray, rate: int) -> float: ...


@dataclass(frozen=True)
class Evidence:
    """One language's transcript words, diarized turns and dialogue stem."""

    words: Sequence[Word]
    turns: Sequence[Turn]
    dialogue: Stem


def measure(
    pairs: Sequence[Pair],
    evidence: Mapping[str, Evidence],
    backing: Stem | None,
    dnsmos: Scorer | None,
    recognizer: Recognizer | None,
    hook: Hook,
) -> list[dict[str, float | None]]:
    """Signals and score of each pair, in order. The second recognition runs first, each
    language's clips packed into shared windows (the first 60 % of the progress)."""
    heard: dict[str, dict[int, str | None]] = {lang: {} for lang in LANGUAGES}
    if recognizer is not None:
        for n, lang in enumerate(LANGUAGES):
            part = _scaled(hook, n * 0.3, 0.3)
            heard[lang] = recognize(pairs, lang, evidence[lang].dialogue, recognizer, part)
    out = []
    for i, pair in enumerate(pairs):
        signals: dict[str, float | None] = {}
        audio: dict[str, FloatArray] = {}
        for lang in LANGUAGES:
            ev = evidence[lang]
            start, end = pair.span(lang)
            audio[lang] = ev.dialogue.window(start, end)
            signals[f"overlap_{lang}"] = overlap_share(ev.turns, start, end)
            signals[f"confidence_{lang}"] = mean_confidence(ev.words, start, end)
            long_enough = audio[lang].size >= MIN_DNSMOS_MS * RATE // 1000  # file may end sooner
            signals[f"dnsmos_{lang}"] = (
                dnsmos.ovrl_clip(audio[lang], RATE) if dnsmos is not None and long_enough else None
            )
            signals[f"agreement_{lang}"] = _agreement(pair, lang, heard[lang], i, recognizer)
        signals["duration_ratio"] = duration_ratio(
            pair.ja_end_ms - pair.ja_start_ms, pair.en_end_ms - pair.en_start_ms
        )
        signals["music_db"] = (
            None
            if backing is None
            else music_db(audio["en"], backing.window(pair.en_start_ms, pair.en_end_ms))
        )
        kept = rounded(signals)  # what the fragment stores, so the score follows from it
        out.append({**kept, "score": score(kept)})
        done = 0.6 if recognizer is not None else 0.0
        hook(done + (1 - done) * (i + 1) / len(pairs), f"{i + 1}/{len(pairs)} clip pairs scored")
    return out


def _scaled(hook: Hook, start: float, share: float) -> Hook:
    """hook for a part of the work: its fractions mapped onto [start, start + share]."""

    def part(fraction: float, message: str) -> None:
        hook(start + share * fraction, message)

    return part


def recognize(
    pairs: Sequence[Pair], lang: str, stem: Stem, recognizer: Recognizer, hook: Hook
) -> dict[int, str | None]:
    """What the recogniser hears in each pair's clip of this language that has text, by pair
    index (None: the recogniser refused the window the clip was packed in)."""
    todo = [i for i, pair in enumerate(pairs) if pair.text(lang).strip()]
    spans = [pairs[i].span(lang) for i in todo]
    windows = pack([max(1, end - start) for start, end in spans])
    out: dict[int, str | None] = {}
    for k, window in enumerate(windows):
        words = recognizer.words(_window_audio(window, spans, stem), lang)
        texts = assign(words, window) if words is not None else {}
        for placed in window.clips:
            said = texts.get(placed.clip, [])
            out[todo[placed.clip]] = None if words is None else joiner(lang).join(said)
        hook((k + 1) / len(windows), f"{lang}: {k + 1}/{len(windows)} recognition windows")
    return out


def _window_audio(window: Window, spans: Sequence[tuple[int, int]], stem: Stem) -> FloatArray:
    """The window's clips from the stem at their places, silence between them."""
    audio = np.zeros(window.length_ms * RATE // 1000, dtype=np.float32)
    for placed in window.clips:
        samples = stem.window(*spans[placed.clip])
        at = placed.at_ms * RATE // 1000
        n = min(samples.size, placed.length_ms * RATE // 1000, audio.size - at)
        audio[at : at + n] = samples[:n]
    return audio


def _agreement(
    pair: Pair, lang: str, heard: dict[int, str | None], i: int, recognizer: Recognizer | None
) -> float | None:
    if recognizer is None or not pair.text(lang).strip():
        return None
    said = heard.get(i)
    return 0.0 if said is None else agreement(pair.text(lang), said, lang)
