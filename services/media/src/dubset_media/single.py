"""The media stage on the Japanese episode alone (a dub job): its Japanese track extracted, no
pair, no offset; subtitle streams of the same file extracted as asked (the English ones are a
dub's translation)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from dubset_common.facts import Facts
from dubset_common.runner import Output, StageContext, StageOutcome
from dubset_common.tools import tool_version
from dubset_media.convert import MediaParams
from dubset_media.core.level import SILENCE_DBFS, peak_dbfs
from dubset_media.core.model import DEFAULT_LIMITS, Limits, MediaInfo, MediaInputError
from dubset_media.core.tracks import select_track
from dubset_media.extraction import extract, info_json, inspect
from dubset_media.ffmpeg import Tools
from dubset_media.wavfile import open_mono

BACKEND = "ffmpeg"


def run_single(
    ctx: StageContext[MediaParams], tools: Tools, limits: Limits = DEFAULT_LIMITS
) -> tuple[StageOutcome, Path, MediaInfo]:
    """The outcome (less subtitle outputs, which the caller adds), the file and its info."""
    p = ctx.params
    path, sha256 = ctx.input_file("ja"), ctx.request.inputs["ja"].sha256
    ctx.hook(0.05, "probing ja")
    try:
        info = inspect(path, tools, limits)
        track = select_track(info, "ja", p.stream_index("ja"))
    except MediaInputError as exc:
        raise MediaInputError(f"ja video: {exc}") from None
    ctx.hook(0.3, f"extracting ja audio (track #{track.index})")
    audio = extract(path, info, track, ctx.workdir / "ja.wav", tools,
                    sample_rate_hz=p.sample_rate_hz, channels=p.channels)  # fmt: skip
    samples, _rate = open_mono(audio.path)
    level = peak_dbfs(samples)
    if level < SILENCE_DBFS:
        raise MediaInputError(
            f"the JA soundtrack is silent (peak {level:.0f} dBFS, under {SILENCE_DBFS} dBFS)"
        )
    media = {
        "format": "dubset-media/1",
        "ja": info_json(info, sha256),
        "audio": {"ja": {k: v for k, v in asdict(audio).items() if k != "path"}},
    }
    data = json.dumps(media, indent=2, sort_keys=True).encode() + b"\n"
    outputs = (
        Output("ja", "ja.wav", "audio/wav", path=audio.path),
        Output("media", "media.json", "application/json", data=data),
    )
    details = {
        "ja_stream_index": audio.stream_index,
        "ja_track": audio.track,
        "ja_duration_ms": info.duration_ms,
        "ffmpeg_version": tool_version(tools.ffmpeg),
    }
    return StageOutcome(outputs, BACKEND, details, Facts()), path, info
