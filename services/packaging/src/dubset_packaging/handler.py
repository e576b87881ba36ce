"""Packaging wired to its ports: fetch inputs, plan, cut, store clip media, write the fragment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dubset.v1 import common_pb2, packaging_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.facts import Facts
from dubset_common.ffmpeg import UsesTools
from dubset_common.keys import canonical_json, check_id, join_key
from dubset_common.objstore import ObjectStore, check_sizes, put_if_changed
from dubset_common.runner import Output, StageContext, StageOutcome
from dubset_common.stagerequest import unpack_params
from dubset_common.tools import as_config_error, stage_errors, tool_version
from dubset_packaging import STAGE, VERSION
from dubset_packaging.core.annotate import FileEntry, fragment, parse_episode
from dubset_packaging.core.clips import plan_clips
from dubset_packaging.core.docs import AudioChoice, parse_clips, parse_media, parse_turns
from dubset_packaging.core.ids import audio_path, encoding_digest, video_path
from dubset_packaging.core.model import LANGUAGES, PackagingInputError, Plan
from dubset_packaging.core.speakers import name_speakers
from dubset_packaging.cutter import CutRequest, Encoding, Hook, cut_clips
from dubset_packaging.ffmpeg import SourceInfo, probe

MAX_INPUT_BYTES = 16 * 1024**3
DEFAULT_DATASET = "default"
DEFAULT_AUDIO_KBPS = Encoding().audio_bitrate_kbps
MP3_BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
MIME = {"audio": "audio/mpeg", "video": "video/mp4"}


def dataset_prefix(dataset: str) -> str:
    return join_key("datasets", check_id(dataset, "dataset name"))


def fragment_key(dataset: str, episode_id: str) -> str:
    return join_key(dataset_prefix(dataset), "episodes", f"{check_id(episode_id)}.json")


@dataclass(frozen=True)
class PackagingParams:
    """Validated packaging params (hashed into the stage's output key)."""

    dataset: str
    video_clips: bool
    audio_bitrate_kbps: int


def params_from_proto(params: packaging_pb2.PackagingParams) -> PackagingParams:
    """The validated params, the service defaults filled in."""
    dataset = params.dataset or DEFAULT_DATASET
    check_id(dataset, "dataset name")
    if params.dataset_uri:
        raise InvalidInputError(
            "packaging writes under datasets/<dataset>/ of its own store: set dataset, "
            "not dataset_uri"
        )
    kbps = (
        params.audio_bitrate_kbps if params.HasField("audio_bitrate_kbps") else DEFAULT_AUDIO_KBPS
    )
    if kbps not in MP3_BITRATES:
        raise InvalidInputError(
            f"audio_bitrate_kbps must be an mp3 CBR rate ({', '.join(map(str, MP3_BITRATES))}), "
            f"not {kbps}"
        )
    video = params.video_clips if params.HasField("video_clips") else True
    return PackagingParams(dataset=dataset, video_clips=video, audio_bitrate_kbps=kbps)


def check_stored(store: ObjectStore, dataset: str, entries: list[FileEntry]) -> None:
    """Every file the episode fragment will list is stored with the size it was written with."""
    expected = ((join_key(dataset_prefix(dataset), e.path), e.bytes) for e in entries)
    check_sizes(store, expected, "fragment")


class PackagingStage(UsesTools):
    """Inputs: the two videos and the JSON documents of media, alignment, diarization and jobs;
    writes clip media and the episode fragment under datasets/<dataset>/; output `episode`."""

    name = STAGE
    version = VERSION
    inputs: tuple[str, ...] = (
        "ja_video",
        "en_video",
        "media",
        "clips",
        "ja_turns",
        "en_turns",
        "episode",
    )

    def backend(self) -> str:
        return f"ffmpeg-{as_config_error(lambda: tool_version(self.tools.ffmpeg))}"

    def parse_params(self, request: common_pb2.StageRequest) -> PackagingParams:
        params = unpack_params(request, packaging_pb2.PackagingParams, "packaging")
        return params_from_proto(params)

    def run(self, ctx: StageContext[PackagingParams]) -> StageOutcome:
        with stage_errors(PackagingInputError):
            return self._run(ctx)

    def _run(self, ctx: StageContext[PackagingParams]) -> StageOutcome:
        dataset, video = ctx.params.dataset, ctx.params.video_clips
        kbps = ctx.params.audio_bitrate_kbps
        backend = self.backend()
        doc = parse_episode(ctx.read_input("episode"))
        media = parse_media(ctx.read_input("media"))
        clips = parse_clips(ctx.read_input("clips"))
        en_turns = parse_turns(ctx.read_input("en_turns"), "en")
        ja_turns = parse_turns(ctx.read_input("ja_turns"), "ja")
        ctx.hook(0.02, "fetching videos")
        sources = self._sources(ctx)
        infos = {lang: probe(path, self.tools, f"{lang} video") for lang, path in sources.items()}
        streams = {
            lang: _audio_stream(lang, infos[lang], media.audio[lang], video) for lang in LANGUAGES
        }
        durations = {lang: infos[lang].duration_ms for lang in LANGUAGES}
        enc = Encoding(audio_bitrate_kbps=kbps)
        encoding = encoding_digest(enc.settings(video, backend))
        plan = plan_clips(
            doc.episode_id, clips, durations, en_turns, ja_turns, media.ja_offset_ms,
            encoding=encoding, time_map=media.time_map,
        )  # fmt: skip
        entries: list[FileEntry] = []
        for n, lang in enumerate(LANGUAGES):

            def hook(fraction: float, message: str, n: int = n, lang: str = lang) -> None:
                ctx.hook(0.05 + 0.45 * (n + fraction), f"{lang}: {message}")

            entries += self._cut_and_store(
                ctx, dataset, lang, sources[lang], infos[lang], streams[lang],
                plan, video, enc, hook,
            )  # fmt: skip
        check_stored(ctx.store, dataset, entries)
        value = fragment(doc, plan.clips, entries, backend, media.tracks)
        if media.time_map is not None:
            value["time_map"] = media.time_map.to_json()
        names = name_speakers(plan.clips)
        if names:  # the subtitles named who speaks
            value["speaker_names"] = names
        frag = canonical_json(value)
        ctx.store.put_bytes(fragment_key(dataset, doc.episode_id), frag, "application/json")
        info = {
            "dataset": dataset,
            "episode_id": doc.episode_id,
            "encoding": encoding,
            "clips": len(plan.clips),
            "dropped_clips": plan.dropped,
            "cut_ms": sum(c.ja.duration_ms + c.en.duration_ms for c in plan.clips),
            "files": len(entries),
            "media_bytes": sum(e.bytes for e in entries),
        }
        out = Output("episode", "episode.json", "application/json", data=frag)
        facts = Facts(clips=len(plan.clips))
        return StageOutcome(outputs=(out,), backend=backend, info=info, facts=facts)

    def _sources(self, ctx: StageContext[PackagingParams]) -> dict[str, Path]:
        """Both videos in the work directory; one copy when JA and EN are the same file."""
        ja = ctx.input_file("ja_video", "ja_video")
        if ctx.request.inputs["en_video"].sha256 == ctx.request.inputs["ja_video"].sha256:
            return {"ja": ja, "en": ja}
        return {"ja": ja, "en": ctx.input_file("en_video", "en_video")}

    def _cut_and_store(
        self,
        ctx: StageContext[PackagingParams],
        dataset: str,
        lang: str,
        source: Path,
        info: SourceInfo,
        stream_index: int,
        plan: Plan,
        video: bool,
        enc: Encoding,
        hook: Hook,
    ) -> list[FileEntry]:
        folder = ctx.workdir / "clips" / lang
        folder.mkdir(parents=True, exist_ok=True)
        requests = []
        for clip in plan.clips:
            stem = clip.clip_id(lang).split("/")[1]
            mp4 = folder / f"{stem}.mp4" if video else None
            requests.append(CutRequest(clip.span(lang), folder / f"{stem}.mp3", mp4))
        stream = info.stream(stream_index)
        assert stream is not None
        cut = cut_clips(self.tools, source, stream_index, stream.channels, requests, enc, hook)
        entries = []
        for clip, files in zip(plan.clips, cut, strict=True):
            for f in files:
                cid = clip.clip_id(lang)
                rel = audio_path(cid) if f.kind == "audio" else video_path(cid)
                key = join_key(dataset_prefix(dataset), rel)
                digest, size = put_if_changed(ctx.store, key, f.path, MIME[f.kind])
                entries.append(
                    FileEntry(rel, digest, size, f.duration_ms, f.codec, f.kind, lang, cid)
                )
                f.path.unlink()
        return entries


def _audio_stream(lang: str, info: SourceInfo, choice: AudioChoice, video: bool) -> int:
    """The absolute index of the chosen audio stream, checked against the probed video."""
    audio = [s for s in info.streams if s.kind == "audio"]
    if choice.index is not None:
        stream = info.stream(choice.index)
        found = stream if stream is not None and stream.kind == "audio" else None
        asked = f"stream {choice.index}"
    else:
        found = audio[choice.position] if choice.position < len(audio) else None
        asked = f"audio stream number {choice.position}"
    if found is None:
        raise PackagingInputError(
            f"media.json says the {lang} audio is {asked}, but the {lang} video has no such "
            f"audio stream (streams: "
            f"{', '.join(f'{s.index}:{s.kind}' for s in info.streams) or 'none'}): "
            "package with the media.json made for these videos"
        )
    if video and info.first("video") is None:
        raise PackagingInputError(
            f"the {lang} video has no video stream: package with video_clips off"
        )
    return found.index
