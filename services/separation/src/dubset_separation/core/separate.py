"""Separation of one or two tracks into dialogue and backing stems, chunk by chunk."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from dubset_common.timemap import TimeMap
from dubset_separation.core.audio import AudioSource, Signal, StemWriter, split_exact
from dubset_separation.core.dualdub import PairFit, dualdub_chunk, fit_pair
from dubset_separation.core.mapped import MappedTrack
from dubset_separation.core.model import (
    BACKENDS,
    CHUNK_SECONDS,
    LANGS,
    MARGIN_SECONDS,
    LanguageStats,
    ProgressHook,
    SeparationInputError,
    SeparationResult,
    no_progress,
)
from dubset_separation.core.repet import repet_backing

Estimator = Callable[[int, int], Signal]
SILENCE_DBFS = -70.0


class ExternalSeparator(Protocol):
    """A model that writes a backing estimate of a whole file (Spleeter in its own env)."""

    name: str
    model: str

    def backing_file(self, mixture: Path, out: Path) -> Path:
        """Write the backing estimate of mixture to out (any WAV, same rate and length)."""

    def describe(self) -> dict[str, object]: ...


def stem_names(lang: str) -> tuple[str, str]:
    return f"{lang}_dialogue.wav", f"{lang}_backing.wav"


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


def _chunks(n: int, rate: int) -> list[tuple[int, int]]:
    size = int(CHUNK_SECONDS * rate)
    bounds = [*list(range(0, n, size)), n]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < size // 2:
        del bounds[-2]
    return list(itertools.pairwise(bounds))


def _mean_square(x: NDArray[np.int16]) -> float:
    f = x.astype(np.float64) / 32768.0
    return float(np.dot(f, f))


def run_track(
    source: AudioSource,
    estimate: Estimator,
    out_dir: Path,
    lang: str,
    hook: ProgressHook,
    progress: tuple[float, float] = (0.0, 1.0),
) -> tuple[float, float, float]:
    """Write <lang>_dialogue.wav and <lang>_backing.wav; returns their and the mixture's dBFS.

    Chunks of CHUNK_SECONDS are estimated with MARGIN_SECONDS of context on each side and
    cross-faded over the margin, so memory does not grow with the episode.
    """
    n, rate = source.frames, source.rate
    margin = int(MARGIN_SECONDS * rate)
    half = margin // 2
    fade = 2 * half
    ramp = np.sin(0.5 * np.pi * (np.arange(fade) + 0.5) / fade) ** 2
    chunks = _chunks(n, rate)
    d_name, b_name = stem_names(lang)
    dialogue = StemWriter(out_dir / d_name, rate)
    backing = StemWriter(out_dir / b_name, rate)
    mix_sq = 0.0
    pending: Signal | None = None
    try:
        for i, (a, b) in enumerate(chunks):
            est = estimate(a - margin, b + margin)
            off = margin - a
            lo = a - half if a > 0 else 0
            hi = b - half if b < n else n
            out = est[lo + off : hi + off].copy()
            if pending is not None:
                out[:fade] = pending + ramp * out[:fade]
            if b < n:
                pending = (1.0 - ramp) * est[hi + off : hi + fade + off]
            mix = source.pcm(lo, hi)
            d, bk = split_exact(mix, out)
            dialogue.write(d)
            backing.write(bk)
            mix_sq += _mean_square(mix)
            f0, f1 = progress
            hook(f0 + (f1 - f0) * (i + 1) / len(chunks), f"{lang}: {hi / rate:.0f} s")
    finally:
        dialogue.close()
        backing.close()
    from dubset_separation.core.audio import rms_dbfs

    return rms_dbfs(mix_sq, n), dialogue.rms_dbfs(), backing.rms_dbfs()


def _stats(
    lang: str, source: AudioSource, levels: tuple[float, float, float], **extra: object
) -> LanguageStats:
    fallback = extra.pop("fallback_seconds", 0.0)
    assert isinstance(fallback, float)
    return LanguageStats(
        lang,
        source.rate,
        source.channels,
        source.frames,
        levels[0],
        levels[1],
        levels[2],
        fallback,
        dict(extra),
    )


def _level_dbfs(source: AudioSource) -> float:
    """Mixture level over up to 60 probes of one second (cheap on long files)."""
    n, rate = source.frames, source.rate
    starts = np.unique(np.linspace(0, max(0, n - rate), min(60, max(1, n // rate))).astype(int))
    sq, count = 0.0, 0
    for s in starts:
        x = source.pcm(int(s), int(s) + min(rate, n))
        sq += _mean_square(x)
        count += len(x)
    from dubset_separation.core.audio import rms_dbfs

    return rms_dbfs(sq, count)


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
        stats.append(_stats(lang, src, levels, silent=levels[0] <= SILENCE_DBFS))
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
            for a, b in _chunks(src.frames, src.rate):
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


Mask = NDArray[np.bool_]


class DualEstimate:
    """A track's backing, chunk by chunk, from the other track read at the fitted shift;
    `covered(s, e)` says where (in the other track's samples) it has anything."""

    def __init__(
        self,
        read_a: Callable[[int, int], Signal],
        read_b: Callable[[int, int], Signal],
        fit: PairFit,
        rate: int,
        covered: Callable[[int, int], Mask],
    ) -> None:
        self.read_a, self.read_b, self.fit, self.rate, self.covered = (
            read_a, read_b, fit, rate, covered
        )  # fmt: skip

    def __call__(self, s: int, e: int) -> Signal:
        shift = self.fit.shift
        b, mask = self.read_b(s + shift, e + shift), self.covered(s + shift, e + shift)
        return dualdub_chunk(self.read_a(s, e), b, mask, self.fit, self.rate)


def _separate_dualdub(
    sources: Mapping[str, AudioSource], out_dir: Path, ja_offset_ms: int, hook: ProgressHook
) -> SeparationResult:
    ja, en = sources["ja"], sources["en"]
    levels_in = {lang: _level_dbfs(sources[lang]) for lang in LANGS}
    silent = [lang for lang, db in levels_in.items() if db <= SILENCE_DBFS]
    if silent:
        raise SeparationInputError(
            f"the {' and '.join(silent)} track is silent ({levels_in[silent[0]]:.0f} dBFS): "
            "dualdub needs the backing in both languages; use --backend repet"
        )
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
            _stats(
                lang,
                src,
                levels,
                fallback_seconds=float(fallback),
                fallback_backend="repet" if fallback > 0 else "",
                **fit.summary(rate),
            )
        )
    return SeparationResult("dualdub", "dualdub-stft-v1", tuple(stats), info)


def separate_dualdub_mapped(
    sources: Mapping[str, AudioSource], out_dir: Path, time_map: TimeMap, hook: ProgressHook
) -> SeparationResult:
    """Dual-dub where the timelines differ by more than an offset: each track is split against
    the other read through the map; where the other release lacks the moment, REPET."""
    levels_in = {lang: _level_dbfs(sources[lang]) for lang in LANGS}
    silent = [lang for lang, db in levels_in.items() if db <= SILENCE_DBFS]
    if silent:
        raise SeparationInputError(
            f"the {' and '.join(silent)} track is silent ({levels_in[silent[0]]:.0f} dBFS): "
            "dualdub needs the backing in both languages; use --backend repet"
        )
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
            stats.append(_incoherent(src, lang, out_dir, hook, k, str(exc)))
            continue

        def covered(s: int, e: int, other: MappedTrack = other, rate: int = rate) -> Mask:
            return other.covered(s, e, rate)

        estimate = DualEstimate(read_a, read_b, fit, rate, covered)
        levels = run_track(src, estimate, out_dir, lang, hook, (0.5 * k, 0.5 * (k + 1)))
        uncovered = int((~other.covered(0, src.frames, rate)).sum())
        stats.append(
            _stats(
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
    src: AudioSource, lang: str, out_dir: Path, hook: ProgressHook, k: int, why: str
) -> LanguageStats:
    """A speed change made with pitch correction (atempo-like time stretching) leaves the two
    beds alike in sound but not sample for sample, so the dual-dub fit finds no peak: the
    track is separated on its own (REPET), and the stats say so and why."""

    def estimate(s: int, e: int, src: AudioSource = src) -> Signal:
        return repet_backing(src.read(s, e), src.rate)

    levels = run_track(src, estimate, out_dir, lang, hook, (0.5 * k, 0.5 * (k + 1)))
    return _stats(
        lang,
        src,
        levels,
        fallback_seconds=src.frames / src.rate,
        fallback_backend="repet",
        fallback_reason=f"time-stretched release, beds not sample-coherent: {why}",
    )
