"""Separation of one or two tracks into dialogue and backing stems, chunk by chunk."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from dubset_common.timemap import TimeMap
from dubset_separation.core.audio import AudioSource, Signal, StemWriter
from dubset_separation.core.dualdub import fit_pair
from dubset_separation.core.dualmapped import separate_dualdub_mapped
from dubset_separation.core.model import (
    BACKENDS,
    LANGS,
    ProgressHook,
    SeparationInputError,
    SeparationResult,
    no_progress,
)
from dubset_separation.core.repet import repet_backing
from dubset_separation.core.tracks import (
    SILENCE_DBFS,
    DualEstimate,
    chunks,
    require_audible,
    run_track,
    track_stats,
)


class ExternalSeparator(Protocol):
    """A model that writes a backing estimate of a whole file (Spleeter in its own env)."""

    name: str
    model: str

    def backing_file(self, mixture: Path, out: Path) -> Path:
        """Write the backing estimate of mixture to out (any WAV, same rate and length)."""

    def describe(self) -> dict[str, object]: ...


def choose_backend(requested: str, languages: set[str]) -> str:
    """The backend to run: the requested one, else dualdub with both languages, else repet."""
    if not languages:
        raise SeparationInputError("no audio given: separation needs a JA or an EN track")
    if requested and requested not in BACKENDS:
        raise SeparationInputError(
            f"unknown backend {requested!r}; choose one of {', '.join(BACKENDS)}"
        )
    backend = requested or ("dualdub" if len(languages) == 2 else "repet")
    if backend == "dualdub" and len(languages) < 2:
        (have,) = languages
        missing = ({"ja", "en"} - languages).pop()
        raise SeparationInputError(
            f"dualdub needs both the JA and the EN track (only {have} given, {missing} missing); "
            "use --backend repet or spleeter for one track"
        )
    return backend


def separate(
    sources: Mapping[str, AudioSource],
    out_dir: Path,
    *,
    backend: str = "",
    ja_offset_ms: int = 0,
    external: ExternalSeparator | None = None,
    hook: ProgressHook = no_progress,
    time_map: TimeMap | None = None,
) -> SeparationResult:
    """Write each given language's two stems into out_dir with the chosen backend."""
    langs = [lang for lang in LANGS if lang in sources]
    chosen = choose_backend(backend, set(langs))
    for lang in sources:
        if lang not in LANGS:
            raise SeparationInputError(f"unknown language {lang!r}; expected ja or en")
    if chosen == "dualdub":
        if time_map is not None:
            return separate_dualdub_mapped(sources, out_dir, time_map, hook)
        return _separate_dualdub(sources, out_dir, ja_offset_ms, hook)
    stats = []
    share = 1.0 / len(langs)
    for k, lang in enumerate(langs):
        src = sources[lang]
        span = (k * share, (k + 1) * share)
        if chosen == "repet":

            def estimate(s: int, e: int, src: AudioSource = src) -> Signal:
                return repet_backing(src.read(s, e), src.rate)

            levels = run_track(src, estimate, out_dir, lang, hook, span)
        else:
            if external is None:
                raise SeparationInputError(f"backend {chosen} has no model configured")
            levels = _run_external(src, external, out_dir, lang, hook, span)
        stats.append(track_stats(lang, src, levels, silent=levels[0] <= SILENCE_DBFS))
    model = external.model if (chosen != "repet" and external is not None) else "repet-sim"
    info: dict[str, object] = {}
    if chosen == "spleeter" and external is not None:
        info["model_info"] = external.describe()
    return SeparationResult(chosen, model, tuple(stats), info)


def _run_external(
    src: AudioSource,
    external: ExternalSeparator,
    out_dir: Path,
    lang: str,
    hook: ProgressHook,
    span: tuple[float, float],
) -> tuple[float, float, float]:
    work = out_dir / f".{lang}_{external.name}"
    work.mkdir(parents=True, exist_ok=True)
    try:
        mixture = work / "mixture.wav"
        writer = StemWriter(mixture, src.rate)
        try:
            for a, b in chunks(src.frames, src.rate):
                writer.write(src.pcm(a, b))
        finally:
            writer.close()
        hook(span[0], f"{lang}: running {external.name}")
        with AudioSource(external.backing_file(mixture, work / "backing.wav"), lang) as est:
            if est.frames != src.frames or est.rate != src.rate:
                raise RuntimeError(
                    f"{external.name} returned {est.frames} samples at {est.rate} Hz for "
                    f"{src.frames} at {src.rate} Hz"
                )

            def estimate(s: int, e: int) -> Signal:
                return est.read(s, e)

            return run_track(src, estimate, out_dir, lang, hook, span)
    finally:
        for p in sorted(work.glob("*")):
            p.unlink()
        work.rmdir()


def _separate_dualdub(
    sources: Mapping[str, AudioSource], out_dir: Path, ja_offset_ms: int, hook: ProgressHook
) -> SeparationResult:
    ja, en = sources["ja"], sources["en"]
    require_audible(sources)
    stats = []
    info: dict[str, object] = {"ja_offset_ms": ja_offset_ms}
    for k, (lang, other) in enumerate((("ja", en), ("en", ja))):
        src = sources[lang]
        rate = src.rate
        off = round(ja_offset_ms * rate / 1000)
        # B sample index for A sample t: JA = EN + offset.
        shift = -off if lang == "ja" else off
        nb = other.length_at(rate)

        def read_a(s: int, e: int, src: AudioSource = src) -> Signal:
            return src.read(s, e)

        def read_b(s: int, e: int, other: AudioSource = other, rate: int = rate) -> Signal:
            return other.read(s, e, rate)

        overlap = (max(0, -shift), min(src.frames, nb - shift))
        hook(0.5 * k, f"{lang}: fitting {other.name} onto it")
        fit = fit_pair(read_a, read_b, shift, overlap, rate)

        def inside(s: int, e: int, nb: int = nb) -> NDArray[np.bool_]:
            idx = np.arange(s, e)
            return (idx >= 0) & (idx < nb)

        estimate = DualEstimate(read_a, read_b, fit, rate, inside)
        levels = run_track(src, estimate, out_dir, lang, hook, (0.5 * k, 0.5 * (k + 1)))
        lo = max(0, -fit.shift)
        hi = min(src.frames, nb - fit.shift)
        covered_n = max(0, hi - lo)
        fallback = (src.frames - covered_n) / rate
        stats.append(
            track_stats(
                lang,
                src,
                levels,
                fallback_seconds=float(fallback),
                fallback_backend="repet" if fallback > 0 else "",
                **fit.summary(rate),
            )
        )
    return SeparationResult("dualdub", "dualdub-stft-v1", tuple(stats), info)
