"""Dual-dub through a time map (a card inserted, a recap cut, a PAL speed-up): each track is
split against the other read through the map; REPET where the other release has nothing."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path

import numpy as np

from dubset_common.timemap import TimeMap
from dubset_separation.core.audio import AudioSource, Signal
from dubset_separation.core.dualdub import fit_pair
from dubset_separation.core.incoherent import SpeechLess, incoherent_backing
from dubset_separation.core.mapped import MappedTrack
from dubset_separation.core.model import (
    LanguageStats,
    ProgressHook,
    SeparationInputError,
    SeparationResult,
)
from dubset_separation.core.repet import repet_backing
from dubset_separation.core.tracks import (
    DualEstimate,
    Mask,
    require_audible,
    run_track,
    track_stats,
)


def separate_dualdub_mapped(
    sources: Mapping[str, AudioSource], out_dir: Path, time_map: TimeMap, hook: ProgressHook
) -> SeparationResult:
    """Dual-dub where the timelines differ by more than an offset: each track is split against
    the other read through the map; where the other release lacks the moment, REPET."""
    require_audible(sources)
    stats = []
    for k, (lang, other_lang) in enumerate((("ja", "en"), ("en", "ja"))):
        src, rate = sources[lang], sources[lang].rate
        other = MappedTrack(sources[other_lang], time_map, own=lang)

        def read_a(s: int, e: int, src: AudioSource = src) -> Signal:
            return src.read(s, e)

        def read_b(s: int, e: int, other: MappedTrack = other, rate: int = rate) -> Signal:
            return other.read(s, e, rate)

        hook(0.5 * k, f"{lang}: fitting {other_lang} onto it through the time map")
        try:
            fit = fit_pair(read_a, read_b, 0, other.longest(rate), rate)
        except SeparationInputError as exc:
            if all(p.rate == 1 for p in time_map.pieces):
                raise
            # The other track is read resampled by (its ms per this one's ms): its pitch too.
            rate_en = time_map.pieces[0].rate
            ratio = rate_en if lang == "ja" else 1 / rate_en
            first = MappedTrack(src, time_map, own=other_lang)  # this track on the other's
            cleaned = SpeechLess(sources[other_lang], first, 1 / ratio)
            other = MappedTrack(cleaned, time_map, own=lang)
            stats.append(_incoherent(src, other, ratio, out_dir, hook, k, str(exc)))
            continue

        def covered(s: int, e: int, other: MappedTrack = other, rate: int = rate) -> Mask:
            return other.covered(s, e, rate)

        estimate = DualEstimate(read_a, read_b, fit, rate, covered)
        levels = run_track(src, estimate, out_dir, lang, hook, (0.5 * k, 0.5 * (k + 1)))
        uncovered = int((~other.covered(0, src.frames, rate)).sum())
        stats.append(
            track_stats(
                lang,
                src,
                levels,
                fallback_seconds=uncovered / rate,
                fallback_backend="repet" if uncovered else "",
                **fit.summary(rate),
            )
        )
    info: dict[str, object] = {"time_map_pieces": len(time_map.pieces)}
    return SeparationResult("dualdub", "dualdub-stft-v1", tuple(stats), info)


def _incoherent(
    src: AudioSource,
    other: MappedTrack,
    ratio: Fraction,
    out_dir: Path,
    hook: ProgressHook,
    k: int,
    why: str,
) -> LanguageStats:
    """A speed change made with pitch correction leaves the two beds alike in sound but not
    sample for sample, so the coherent fit finds no peak: dual-dub by magnitude instead
    (incoherent.py) against `other` with its own speech taken out first, REPET where the other
    release has nothing; the stats say so and why."""
    rate = src.rate

    def estimate(s: int, e: int) -> Signal:
        a, covered = src.read(s, e), other.covered(s, e, rate)
        if not covered.any():
            return repet_backing(a, rate)
        backing = incoherent_backing(a, other.read(s, e, rate), ratio, rate, soft=True)
        return backing if covered.all() else np.where(covered, backing, repet_backing(a, rate))

    lang = src.name
    levels = run_track(src, estimate, out_dir, lang, hook, (0.5 * k, 0.5 * (k + 1)))
    uncovered = int((~other.covered(0, src.frames, rate)).sum())
    return track_stats(
        lang,
        src,
        levels,
        fallback_seconds=uncovered / rate,
        fallback_backend="repet" if uncovered else "",
        method="magnitude (time-stretched release: beds not sample-coherent)",
        coherent_fit=why,
    )
