"""The MediaService rpcs (probe, extract, estimate offset) on objects of one store."""

from __future__ import annotations

import tempfile
from pathlib import Path

from dubset.v1 import common_pb2, media_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.keys import content_key, file_sha256, join_key
from dubset_common.objstore import ObjectStore
from dubset_common.runner import fetch_to_file
from dubset_common.stagerequest import media_ref
from dubset_common.tools import stage_errors
from dubset_media import STAGE, VERSION
from dubset_media.convert import LANGUAGES, estimate_to_proto, info_to_proto
from dubset_media.core.model import DEFAULT_MAX_OFFSET_MS, MediaInputError
from dubset_media.core.tracks import select_track
from dubset_media.extraction import extract
from dubset_media.ffmpeg import Tools, probe
from dubset_media.handler import (
    MAX_INPUT_BYTES,
    MAX_OFFSET_LIMIT_MS,
    MediaStage,
    offset_of,
)


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
