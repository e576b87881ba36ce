"""Every clip pair's signals: the pure ones (core/signals.py) on the transcripts and turns, and
those that need the audio and models (DNSMOS, the second recognition, music level) on the
windows of the separation stems."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from dubset_quality.audio import RATE, Stem
from dubset_quality.core.doc import rounded
from dubset_quality.core.model import LANGUAGES, Pair, Turn, Word
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
    """Signals and score of each pair, in order."""
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
            signals[f"agreement_{lang}"] = _agreement(pair, lang, audio[lang], recognizer)
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
        hook((i + 1) / len(pairs), f"{i + 1}/{len(pairs)} clip pairs scored")
    return out


def _agreement(
    pair: Pair, lang: str, samples: FloatArray, recognizer: Recognizer | None
) -> float | None:
    if recognizer is None or not pair.text(lang).strip():
        return None
    heard = recognizer.text(samples, lang)
    return 0.0 if heard is None else agreement(pair.text(lang), heard, lang)
