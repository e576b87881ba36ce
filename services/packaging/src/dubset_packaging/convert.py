"""The one place packaging protobuf messages and the stage's JSON documents meet."""

from __future__ import annotations

import json
import statistics

from dubset.v1 import common_pb2, packaging_pb2
from dubset_common.anim400k_proto import episode_info_from_proto, show_from_proto
from dubset_common.errors import InvalidInputError
from dubset_common.jsondoc import clip_doc
from dubset_common.keys import canonical_json

_LANG = {common_pb2.LANGUAGE_JA: "ja", common_pb2.LANGUAGE_EN: "en"}


def request_docs(request: packaging_pb2.PackageRequest) -> dict[str, bytes]:
    """The stage's JSON inputs (episode, media, clips, ja_turns, en_turns) of a PackageRequest.

    A request carries no media.json: the JA audio is the JA video's first audio stream, the EN
    audio the EN video's first (its second when both refs name one file, a dual-audio release),
    and the offset is the median JA-EN start difference of the clips (alignment set it so).
    """
    clips = [clip_doc(c) for c in request.clips]
    turns: dict[str, list[dict[str, object]]] = {"ja": [], "en": []}
    for t in request.speaker_turns:
        if t.language not in _LANG:
            raise InvalidInputError("every speaker turn needs its language (JA or EN)")
        turns[_LANG[t.language]].append(
            {"start_ms": t.start_ms, "end_ms": t.end_ms, "speaker": t.speaker}
        )
    same = request.ja_video.sha256 == request.en_video.sha256
    offset = (
        int(statistics.median_low([c.ja_start_ms - c.start_ms for c in request.clips]))
        if request.clips
        else 0
    )
    media = {
        "format": "dubset-media/1",
        "audio": {"ja": {"audio_position": 0}, "en": {"audio_position": 1 if same else 0}},
        "offset": {"ja_offset_ms": offset},
    }
    info = episode_info_from_proto(request.episode)
    for field, ref in (("jp_video_id", request.ja_video), ("en_video_id", request.en_video)):
        if not info[field]:
            info[field] = ref.sha256
    episode = {
        "format": "dubset-episode/1",
        "episode_id": request.episode_id,
        "episode_number": str(request.episode_number),
        "show": show_from_proto(request.show),
        "episode": info,
        "provenance": {},
    }
    return {
        "episode": canonical_json(episode),
        "media": canonical_json(media),
        "clips": canonical_json({"clips": clips}),
        "ja_turns": canonical_json({"language": "ja", "turns": turns["ja"]}),
        "en_turns": canonical_json({"language": "en", "turns": turns["en"]}),
    }


JsonObj = dict[str, object]


def clips_by_id(fragment: bytes) -> tuple[list[JsonObj], dict[str, list[JsonObj]]]:
    """The fragment's clip objects, and its file entries grouped by clip id."""
    doc = json.loads(fragment)
    files: dict[str, list[JsonObj]] = {}
    for f in doc["files"]:
        files.setdefault(f["clip"], []).append(f)
    return doc["episode"]["clips"], files
