"""Media wired to its ports: probe, extract and offset on files; the stage the runner executes."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

from dubset.v1 import common_pb2, media_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.facts import Facts
from dubset_common.runner import Output, ProgressHook, StageContext, StageOutcome
from dubset_common.stagerequest import unpack_params
from dubset_common.subtitles import SubtitleError, parse
from dubset_common.timemap import TimeMap
from dubset_common.tools import as_config_error, stage_errors, tool_version
from dubset_media import STAGE, VERSION
from dubset_media.convert import (
    MediaParams,
    params_from_proto,
)
from dubset_media.core.episodemap import estimate_map, same_episode
from dubset_media.core.level import SILENCE_DBFS, peak_dbfs
from dubset_media.core.model import (
    DEFAULT_LIMITS,
    DEFAULT_SAMPLE_RATE_HZ,
    Limits,
    MediaInfo,
    MediaInputError,
    NotSameEpisodeError,
    OffsetEstimate,
)
from dubset_media.core.offset import estimate_offset, require_same_episode
from dubset_media.core.probe import check_pair
from dubset_media.core.substreams import ASS_CODECS, subtitle_stream
from dubset_media.extraction import Extracted, choose_tracks, extract, info_json, inspect
from dubset_media.ffmpeg import (
    Tools,
    extract_subtitles,
)
from dubset_media.single import run_single
from dubset_media.wavfile import open_mono

BACKEND = "ffmpeg+band-flux-xcorr+gcc-phat"
MAX_INPUT_BYTES = 16 * 1024**3
MAX_OFFSET_LIMIT_MS = 3600 * 1000
# Decoded audio may end this much (or 2 %) before the duration the container claims.


def _quiet(_fraction: float, _message: str) -> None:
    return None


def offset_of(
    en_wav: Path, ja_wav: Path, max_offset_ms: int, hook: ProgressHook = _quiet
) -> OffsetEstimate:
    """The JA-EN offset of two mono WAV files at one rate (memory-mapped, not loaded)."""
    en, en_rate = open_mono(en_wav)
    ja, ja_rate = open_mono(ja_wav)
    for lang, samples in (("JA", ja), ("EN", en)):
        level = peak_dbfs(samples)
        if level < SILENCE_DBFS:
            raise MediaInputError(
                f"the {lang} soundtrack is silent (peak {level:.0f} dBFS, under {SILENCE_DBFS} "
                "dBFS): no dialogue to transcribe; is it the right audio stream?"
            )
    if en_rate != ja_rate:
        raise MediaInputError(f"sample rates differ: EN {en_rate} Hz, JA {ja_rate} Hz")
    try:
        return estimate_offset(en, ja, en_rate, max_offset_ms, hook)
    except ValueError as exc:
        raise MediaInputError(str(exc)) from None


def map_of(
    en_wav: Path,
    ja_wav: Path,
    estimate: OffsetEstimate,
    max_offset_ms: int,
    hook: ProgressHook = _quiet,
) -> tuple[TimeMap, OffsetEstimate]:
    """The time map of two mono WAVs at one rate, and the offset estimate that goes with it
    (its main piece's offset where the map is more than one); NotSameEpisodeError when
    neither the global estimate nor any piece of the map finds the two share a bed."""
    en, rate = open_mono(en_wav)
    ja, _ = open_mono(ja_wav)
    try:
        tm = estimate_map(en, ja, rate, max_offset_ms, hook, known=estimate)
    except NotSameEpisodeError:
        require_same_episode(estimate)
        ja_ms, en_ms = len(ja) * 1000 // rate, len(en) * 1000 // rate
        return TimeMap.constant(estimate.ja_offset_ms, ja_ms, en_ms), estimate
    if not (estimate.same_episode or same_episode(tm)):
        require_same_episode(estimate)
    if tm.constant_offset_ms is not None and estimate.same_episode:
        return tm, estimate
    main = max(tm.pieces, key=lambda p: p.ja_end_ms - p.ja_start_ms)
    return tm, replace(
        estimate,
        ja_offset_ms=main.ja_start_ms - main.en_start_ms,
        confidence=main.confidence,
        same_episode=True,
        method=f"{estimate.method}+time-map",
    )


def same_file(ja: common_pb2.MediaRef, en: common_pb2.MediaRef) -> bool:
    """One release carries both languages (the same object, or the same bytes)."""
    return ja.uri == en.uri or (bool(ja.sha256) and ja.sha256 == en.sha256)


def _fetch(ctx: StageContext[MediaParams], name: str) -> tuple[Path, str]:
    """An input copied to the work directory (videos do not fit in memory), sha256 checked."""
    return ctx.input_file(name), ctx.request.inputs[name].sha256


class MediaStage:
    """Inputs `ja` and `en` are the two videos; outputs ja.wav, en.wav and media.json."""

    name = STAGE
    version = VERSION
    inputs: tuple[str, ...] = ("ja",)
    optional_inputs: tuple[str, ...] = ("en",)  # absent: the JA episode alone (a dub job)

    def __init__(self, tools: Tools | None = None, limits: Limits = DEFAULT_LIMITS) -> None:
        self._tools = tools
        self.limits = limits

    @property
    def tools(self) -> Tools:
        if self._tools is None:
            self._tools = as_config_error(Tools().resolve)
        return self._tools

    def parse_params(self, request: common_pb2.StageRequest) -> MediaParams:
        params = unpack_params(request, media_pb2.MediaParams, "media")
        value = params_from_proto(params)
        rate, channels = value.sample_rate_hz, value.channels
        if not 8000 <= rate <= 192_000:
            raise InvalidInputError(f"sample_rate_hz must be 8000..192000 ({rate})")
        if not 1 <= channels <= 8:
            raise InvalidInputError(f"channels must be 1..8 ({channels})")
        if not 0 <= value.max_offset_ms <= MAX_OFFSET_LIMIT_MS:
            raise InvalidInputError(f"max_offset_ms must be 0..{MAX_OFFSET_LIMIT_MS}")
        if value.max_duration_diff_ms < 0:
            raise InvalidInputError("max_duration_diff_ms must not be negative")
        for lang in ("ja", "en"):
            index = value.stream_index(lang)
            if index is not None and index < 0:
                raise InvalidInputError(f"{lang}_stream_index must not be negative ({index})")
            sub = value.subtitle_stream(lang)
            if sub is not None and sub < 0:
                raise InvalidInputError(f"{lang}_subtitle_stream must not be negative ({sub})")
        return value

    def _subtitles(
        self,
        ctx: StageContext[MediaParams],
        files: dict[str, tuple[Path, str]],
        infos: dict[str, MediaInfo],
    ) -> list[Output]:
        """The subtitle streams the params ask for, each as <lang>_subtitles (ASS or SRT)."""
        out = []
        for lang in ("ja", "en"):
            index = ctx.params.subtitle_stream(lang)
            if index is None:
                continue
            stream = subtitle_stream(infos[lang], index, lang)
            ass = stream.codec in ASS_CODECS
            path = ctx.workdir / f"{lang}_subtitles.{'ass' if ass else 'srt'}"
            extract_subtitles(files[lang][0], path, stream.index, ass, self.tools)
            try:
                parse(path.read_bytes(), f"subtitle stream #{index}")
            except SubtitleError as exc:
                raise MediaInputError(str(exc)) from None
            out.append(Output(f"{lang}_subtitles", path.name, "text/plain", path=path))
        return out

    def run(self, ctx: StageContext[MediaParams]) -> StageOutcome:
        with stage_errors(MediaInputError):
            return self._run(ctx)

    def _run_single(self, ctx: StageContext[MediaParams]) -> StageOutcome:
        outcome, path, info = run_single(ctx, self.tools, self.limits)
        sha = ctx.request.inputs["ja"].sha256
        subtitles = self._subtitles(ctx, {"ja": (path, sha), "en": (path, sha)},
                                    {"ja": info, "en": info})  # fmt: skip
        return replace(outcome, outputs=(*outcome.outputs, *subtitles))

    def _run(self, ctx: StageContext[MediaParams]) -> StageOutcome:
        if not ctx.has_input("en"):
            return self._run_single(ctx)
        p = ctx.params
        rate, channels = p.sample_rate_hz, p.channels
        max_offset, max_diff = p.max_offset_ms, p.max_duration_diff_ms
        files: dict[str, tuple[Path, str]] = {}
        infos: dict[str, MediaInfo] = {}
        audio: dict[str, Extracted] = {}
        one_file = same_file(ctx.request.inputs["ja"], ctx.request.inputs["en"])
        for i, lang in enumerate(("ja", "en")):
            if one_file and lang == "en":  # a dual-audio release: fetched and probed once
                files["en"], infos["en"] = files["ja"], infos["ja"]
                continue
            ctx.hook(0.05 + 0.1 * i, f"probing {lang}")
            files[lang] = _fetch(ctx, lang)
            try:
                infos[lang] = inspect(files[lang][0], self.tools, self.limits)
            except MediaInputError as exc:
                raise MediaInputError(f"{lang} video: {exc}") from None
        if not one_file:
            check_pair(infos["ja"], infos["en"], max_diff)
        indexes = {lang: p.stream_index(lang) for lang in ("ja", "en")}
        tracks = choose_tracks(infos, indexes, one_file)
        analysis: dict[str, Path] = {}
        for i, lang in enumerate(("ja", "en")):
            ctx.hook(0.25 + 0.2 * i, f"extracting {lang} audio (track #{tracks[lang].index})")
            audio[lang] = extract(
                files[lang][0],
                infos[lang],
                tracks[lang],
                ctx.workdir / f"{lang}.wav",
                self.tools,
                sample_rate_hz=rate,
                channels=channels,
            )
            analysis[lang] = audio[lang].path
        if rate != DEFAULT_SAMPLE_RATE_HZ or channels != 1:
            for lang in ("ja", "en"):
                analysis[lang] = extract(
                    files[lang][0],
                    infos[lang],
                    tracks[lang],
                    ctx.workdir / f"{lang}-analysis.wav",
                    self.tools,
                ).path

        def hook(fraction: float, message: str) -> None:
            ctx.hook(0.65 + 0.3 * fraction, message)

        global_estimate = offset_of(analysis["en"], analysis["ja"], max_offset, hook)
        ctx.hook(0.9, "time map")
        tm, estimate = map_of(analysis["en"], analysis["ja"], global_estimate, max_offset)
        media = {
            "format": "dubset-media/1",
            "ja": info_json(infos["ja"], files["ja"][1]),
            "en": info_json(infos["en"], files["en"][1]),
            "audio": {
                lang: {k: v for k, v in asdict(audio[lang]).items() if k != "path"}
                for lang in ("ja", "en")
            },
            "offset": estimate.to_json(),
            "time_map": tm.to_json(),
        }
        data = json.dumps(media, indent=2, sort_keys=True).encode() + b"\n"
        outputs = (
            Output("ja", "ja.wav", "audio/wav", path=audio["ja"].path),
            Output("en", "en.wav", "audio/wav", path=audio["en"].path),
            Output("media", "media.json", "application/json", data=data),
            *self._subtitles(ctx, files, infos),
        )
        confidence = round(estimate.confidence, 4)
        info = {
            "ja_offset_ms": estimate.ja_offset_ms,
            "confidence": confidence,
            "method": estimate.method,
            "ja_stream_index": audio["ja"].stream_index,
            "en_stream_index": audio["en"].stream_index,
            "ja_track": audio["ja"].track,
            "en_track": audio["en"].track,
            "one_file": one_file,
            "ja_duration_ms": infos["ja"].duration_ms,
            "en_duration_ms": infos["en"].duration_ms,
            "ffmpeg_version": tool_version(self.tools.ffmpeg),
        }
        edited = tm.constant_offset_ms is None
        if edited:
            info["time_map_pieces"] = len(tm.pieces)
        facts = Facts(
            ja_offset_ms=estimate.ja_offset_ms,
            offset_confidence=confidence,
            time_map=tm if edited else None,
        )
        return StageOutcome(outputs=outputs, backend=BACKEND, info=info, facts=facts)
