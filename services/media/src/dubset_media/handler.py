"""Media wired to its ports: probe, extract and offset on files; the stage the runner executes."""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from dubset.v1 import common_pb2, media_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.facts import Facts
from dubset_common.keys import content_key, file_sha256, join_key
from dubset_common.objstore import ObjectStore
from dubset_common.runner import Output, ProgressHook, StageContext, StageOutcome, fetch_to_file
from dubset_common.stagerequest import media_ref, unpack_params
from dubset_common.tools import as_config_error, stage_errors, tool_version
from dubset_media import STAGE, VERSION
from dubset_media.convert import (
    LANGUAGES,
    MediaParams,
    estimate_to_proto,
    info_to_proto,
    params_from_proto,
)
from dubset_media.core.downmix import pan_filter
from dubset_media.core.level import SILENCE_DBFS, peak_dbfs
from dubset_media.core.model import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_OFFSET_MS,
    DEFAULT_SAMPLE_RATE_HZ,
    Limits,
    MediaInfo,
    MediaInputError,
    OffsetEstimate,
    StreamInfo,
)
from dubset_media.core.offset import estimate_offset, require_same_episode
from dubset_media.core.probe import check_episode, check_pair
from dubset_media.core.tracks import describe, select_pair, select_track
from dubset_media.ffmpeg import Tools, check_video_decodes, extract_audio, probe
from dubset_media.wavfile import open_mono, read_info

BACKEND = "ffmpeg+band-flux-xcorr+gcc-phat"
MAX_INPUT_BYTES = 16 * 1024**3
MAX_OFFSET_LIMIT_MS = 3600 * 1000
# Decoded audio may end this much (or 2 %) before the duration the container claims.
AUDIO_SHORTFALL_MS = 2000


@dataclass(frozen=True)
class Extracted:
    path: Path
    stream_index: int
    sample_rate_hz: int
    channels: int
    frames: int
    duration_ms: int
    track: str = ""  # the source track, as tracks.describe writes it
    downmix: str = ""  # the pan filter that mixed a surround track down; empty: ffmpeg's own


def _quiet(_fraction: float, _message: str) -> None:
    return None


def inspect(path: Path, tools: Tools, limits: Limits = DEFAULT_LIMITS) -> MediaInfo:
    """Probe a video and check it is a usable episode: streams, length, video that decodes."""
    info = probe(path, tools)
    try:
        check_episode(info, limits)
    except MediaInputError as exc:
        raise MediaInputError(f"{path.name}: {exc}") from None
    check_video_decodes(path, info, tools)
    return info


def extract(
    path: Path,
    info: MediaInfo,
    stream: StreamInfo,
    out: Path,
    tools: Tools,
    *,
    sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ,
    channels: int = 1,
) -> Extracted:
    """One audio stream of path as PCM WAV at out (surround downmixed with the dialogue
    forward); refuses audio that stops short (truncation)."""
    pan = pan_filter(stream, channels)
    extract_audio(path, out, stream.index, sample_rate_hz, channels, info.duration_ms, tools, pan)
    wav = read_info(out)
    claimed = stream.duration_ms or info.duration_ms
    if wav.duration_ms < claimed - max(AUDIO_SHORTFALL_MS, claimed // 50):
        raise MediaInputError(
            f"{path.name}: audio stream {stream.index} decodes to {wav.duration_ms} ms of the "
            f"{claimed} ms the file claims (truncated or corrupt)"
        )
    return Extracted(
        out,
        stream.index,
        wav.sample_rate_hz,
        wav.channels,
        wav.frames,
        wav.duration_ms,
        describe(stream),
        pan or "",
    )


def choose_tracks(
    infos: dict[str, MediaInfo], indexes: dict[str, int | None], one_file: bool
) -> dict[str, StreamInfo]:
    """The JA and EN audio tracks: a pair from one file carrying both, else one from each."""
    if one_file:
        ja, en = select_pair(infos["ja"], indexes["ja"], indexes["en"])
        return {"ja": ja, "en": en}
    chosen = {}
    for lang in ("ja", "en"):
        try:
            chosen[lang] = select_track(infos[lang], lang, indexes[lang])
        except MediaInputError as exc:
            raise MediaInputError(f"{lang} video: {exc}") from None
    return chosen


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


def info_json(info: MediaInfo, sha256: str) -> dict[str, object]:
    value = asdict(info)
    value["sha256"] = sha256
    return value


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
    inputs: tuple[str, ...] = ("ja", "en")

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
        return value

    def run(self, ctx: StageContext[MediaParams]) -> StageOutcome:
        with stage_errors(MediaInputError):
            return self._run(ctx)

    def _run(self, ctx: StageContext[MediaParams]) -> StageOutcome:
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

        estimate = require_same_episode(offset_of(analysis["en"], analysis["ja"], max_offset, hook))
        media = {
            "format": "dubset-media/1",
            "ja": info_json(infos["ja"], files["ja"][1]),
            "en": info_json(infos["en"], files["en"][1]),
            "audio": {
                lang: {k: v for k, v in asdict(audio[lang]).items() if k != "path"}
                for lang in ("ja", "en")
            },
            "offset": estimate.to_json(),
        }
        data = json.dumps(media, indent=2, sort_keys=True).encode() + b"\n"
        outputs = (
            Output("ja", "ja.wav", "audio/wav", path=audio["ja"].path),
            Output("en", "en.wav", "audio/wav", path=audio["en"].path),
            Output("media", "media.json", "application/json", data=data),
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
        facts = Facts(ja_offset_ms=estimate.ja_offset_ms, offset_confidence=confidence)
        return StageOutcome(outputs=outputs, backend=BACKEND, info=info, facts=facts)


def _fetch_ref(store: ObjectStore, ref: common_pb2.MediaRef, workdir: Path, name: str) -> Path:
    """A referenced object copied into workdir, its sha256 checked when the ref carries one."""
    path = workdir / name
    fetch_to_file(store, ref, path, MAX_INPUT_BYTES, name)
    return path


class MediaCalls:
    """The MediaService rpcs on objects of one store (what the gRPC servicer calls)."""

    def __init__(self, store: ObjectStore, tools: Tools | None = None) -> None:
        self.store = store
        self.stage = MediaStage(tools)

    def probe(self, request: media_pb2.ProbeRequest) -> media_pb2.ProbeResponse:
        with (
            tempfile.TemporaryDirectory(prefix="dubset-media-") as tmp,
            stage_errors(MediaInputError),
        ):
            path = _fetch_ref(self.store, request.media, Path(tmp), "media")
            info = probe(path, self.stage.tools)
            return media_pb2.ProbeResponse(info=info_to_proto(info, request.media))

    def extract(self, request: media_pb2.ExtractRequest) -> media_pb2.ExtractResponse:
        rate = request.sample_rate_hz if request.HasField("sample_rate_hz") else 16_000
        channels = request.channels if request.HasField("channels") else 1
        index = request.stream_index if request.HasField("stream_index") else None
        if not 8000 <= rate <= 192_000 or not 1 <= channels <= 8:
            raise InvalidInputError("sample_rate_hz must be 8000..192000 and channels 1..8")
        language = LANGUAGES.get(request.language, "")
        params = {"rate": rate, "channels": channels, "stream": index, "language": language}
        with (
            tempfile.TemporaryDirectory(prefix="dubset-media-") as tmp,
            stage_errors(MediaInputError),
        ):
            path = _fetch_ref(self.store, request.media, Path(tmp), "media")
            info = probe(path, self.stage.tools)
            stream = select_track(info, language, index)
            out = extract(
                path,
                info,
                stream,
                Path(tmp) / "audio.wav",
                self.stage.tools,
                sample_rate_hz=rate,
                channels=channels,
            )
            digest = request.media.sha256 or file_sha256(path)
            key = content_key(f"{STAGE}-extract", VERSION, [digest], params)
            stored = self.store.put_file(
                join_key("stages", f"{STAGE}-extract", key, "audio.wav"), out.path, "audio/wav"
            )
        audio = media_ref(stored)
        audio.duration_ms = out.duration_ms
        return media_pb2.ExtractResponse(
            audio=audio,
            stream_index=out.stream_index,
            sample_rate_hz=out.sample_rate_hz,
            channels=out.channels,
        )

    def estimate_offset(
        self, request: media_pb2.EstimateOffsetRequest
    ) -> media_pb2.EstimateOffsetResponse:
        max_offset = (
            request.max_offset_ms if request.HasField("max_offset_ms") else DEFAULT_MAX_OFFSET_MS
        )
        if not 0 <= max_offset <= MAX_OFFSET_LIMIT_MS:
            raise InvalidInputError(f"max_offset_ms must be 0..{MAX_OFFSET_LIMIT_MS}")
        with (
            tempfile.TemporaryDirectory(prefix="dubset-media-") as tmp,
            stage_errors(MediaInputError),
        ):
            en = _fetch_ref(self.store, request.en_audio, Path(tmp), "en_audio")
            ja = _fetch_ref(self.store, request.ja_audio, Path(tmp), "ja_audio")
            estimate = offset_of(en, ja, max_offset)
        return media_pb2.EstimateOffsetResponse(estimate=estimate_to_proto(estimate))
