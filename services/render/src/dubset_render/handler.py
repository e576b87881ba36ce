"""Render wired to its ports: the stage the runner executes (the gRPC call runs it too)."""

from __future__ import annotations

import json

from dubset.v1 import common_pb2, render_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.facts import Facts
from dubset_common.ffmpeg import UsesTools
from dubset_common.jsondoc import load_object
from dubset_common.runner import Output, StageContext, StageOutcome
from dubset_common.stagerequest import unpack_params
from dubset_common.tools import stage_errors, tool_version
from dubset_render import STAGE, VERSION
from dubset_render.convert import RenderParams, params_from_proto
from dubset_render.core.model import RenderInputError
from dubset_render.core.spoken import parse_spoken, report, spoken_srt
from dubset_render.ffmpeg import Episode, decode, mux, probe, resample
from dubset_render.mixer import render_track

MAX_INPUT_BYTES = 64 * 1024**3


def ja_stream(episode: Episode, params: RenderParams, media: bytes | None) -> tuple[int, int]:
    """(index, channels) of the Japanese audio stream: the params', the media stage's, or the
    first; channels folded to at most 2."""
    wanted = params.ja_stream_index
    if not wanted and media is not None:
        audio = load_object(media, "media.json", RenderInputError).get("audio")
        ja = audio.get("ja") if isinstance(audio, dict) else None
        index = ja.get("stream_index") if isinstance(ja, dict) else None
        wanted = index if isinstance(index, int) and not isinstance(index, bool) else 0
    streams = dict(episode.audio)
    if wanted and wanted not in streams:
        listed = ", ".join(f"#{i}" for i in streams)
        raise RenderInputError(f"the episode has no audio stream #{wanted} (it has {listed})")
    index = wanted or episode.audio[0][0]
    return index, min(2, max(1, streams[index]))


class RenderStage(UsesTools):
    """Inputs `video`, `speech`, `lines`; optional `ja_dialogue` (a separated bed), `translation`
    (Japanese texts for the report), `media` (which stream is Japanese). Outputs `video` (the
    dubbed episode), `report` and `subtitles`."""

    name = STAGE
    version = VERSION
    inputs: tuple[str, ...] = ("video", "speech", "lines")
    optional_inputs: tuple[str, ...] = ("ja_dialogue", "translation", "media")

    def parse_params(self, request: common_pb2.StageRequest) -> RenderParams:
        params = unpack_params(request, render_pb2.RenderParams, "render")
        try:
            return params_from_proto(params)
        except RenderInputError as exc:
            raise InvalidInputError(str(exc)) from None

    def run(self, ctx: StageContext[RenderParams]) -> StageOutcome:
        with stage_errors(RenderInputError):
            return self._run(ctx)

    def _run(self, ctx: StageContext[RenderParams]) -> StageOutcome:
        p, tools, work = ctx.params, self.tools, ctx.workdir
        translation = ctx.read_input("translation") if ctx.has_input("translation") else None
        lines = parse_spoken(ctx.read_input("lines"), translation)
        video = ctx.input_file("video")
        episode = probe(video, tools)
        media = ctx.read_input("media") if ctx.has_input("media") else None
        stream, channels = ja_stream(episode, p, media)
        ctx.hook(0.05, f"decoding the Japanese track #{stream}")
        decode(video, stream, channels, work / "original.wav", tools)
        resample(ctx.input_file("speech"), work / "speech48.wav", tools)
        dialogue = None
        if ctx.has_input("ja_dialogue"):
            dialogue = work / "dialogue48.wav"
            resample(ctx.input_file("ja_dialogue"), dialogue, tools)
        ctx.hook(0.3, "mixing the English track")
        spans = [(x.ja_start_ms, x.ja_end_ms) for x in lines]
        levels = render_track(
            work / "original.wav", work / "speech48.wav", dialogue, spans, p.duck_db,
            work / "mix.wav", p.bed_duck_db,
        )  # fmt: skip
        srt = spoken_srt(lines).encode()
        (work / "spoken.srt").write_bytes(srt)
        out = work / f"dubbed.{p.container}"
        ctx.hook(0.8, f"writing the {p.container}")
        mux(video, episode, stream, work / "mix.wav", work / "spoken.srt", out, p.container,
            p.audio_bitrate_kbps, p.title, tools)  # fmt: skip
        doc = report(lines, levels, p.container)
        data = (json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()
        mime = "video/x-matroska" if p.container == "mkv" else "video/mp4"
        outputs = (
            Output("video", out.name, mime, path=out),
            Output("report", "report.json", "application/json", data=data),
            Output("subtitles", "spoken.srt", "application/x-subrip", data=srt),
        )
        info = {"lines": len(lines), "unfit": len(doc["unfit"]),  # type: ignore[arg-type]
                "levels": doc["levels"], "ja_stream": stream}  # fmt: skip
        backend = f"ffmpeg-{tool_version(tools.ffmpeg)}"
        facts = Facts(segments=len(lines))
        return StageOutcome(outputs=outputs, backend=backend, info=info, facts=facts)
