"""A video checked as an episode and one of its audio streams extracted as PCM WAV."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from dubset_media.core.downmix import pan_filter
from dubset_media.core.model import (
    DEFAULT_LIMITS,
    DEFAULT_SAMPLE_RATE_HZ,
    Limits,
    MediaInfo,
    MediaInputError,
    StreamInfo,
)
from dubset_media.core.probe import check_episode
from dubset_media.core.tracks import describe, select_pair, select_track
from dubset_media.ffmpeg import Tools, check_video_decodes, extract_audio, probe
from dubset_media.wavfile import read_info

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


def info_json(info: MediaInfo, sha256: str) -> dict[str, object]:
    value = asdict(info)
    value["sha256"] = sha256
    return value
