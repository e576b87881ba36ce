"""lhotse manifests (recordings, supervisions, MonoCuts) for the exported audio clips."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from dubset_packaging.core.export import ExportError, Fragment, media_path

LANGUAGE_NAMES = {"ja": "Japanese", "en": "English"}
_CLIP_FIELDS = {"ja": ("jp_clip", "jp_text"), "en": ("en_clip", "en_text")}
# MPEG audio sample rates by version bits (3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5) and rate index.
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class AudioInfo:
    sampling_rate: int
    channels: int


@dataclass(frozen=True)
class LhotseRows:
    """One recording, its supervision and the MonoCut covering it, as lhotse dicts."""

    recording: dict[str, object]
    supervision: dict[str, object]
    cut: dict[str, object]


def mp3_audio_info(data: bytes) -> AudioInfo:
    """Sample rate and channel count from the first MPEG audio frame header (after any ID3v2)."""
    i = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        i = 10 + size + (10 if data[5] & 0x10 else 0)
    end = min(len(data) - 3, i + 64 * 1024)
    while i < end:
        b1, b2, b3 = data[i + 1], data[i + 2], data[i + 3]
        version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
        rate, bitrate = (b2 >> 2) & 3, b2 >> 4
        sync = data[i] == 0xFF and b1 & 0xE0 == 0xE0
        if sync and version != 1 and layer and rate != 3 and bitrate != 15:
            return AudioInfo(_MP3_RATES[version][rate], 1 if b3 >> 6 == 3 else 2)
        i += 1
    raise ExportError("no MPEG audio frame header found in the first 64 KiB")


def num_samples(duration_ms: int, sampling_rate: int) -> int:
    """Samples in duration_ms, rounded half up like lhotse's compute_num_samples."""
    return (duration_ms * sampling_rate + 500) // 1000


def lhotse_rows(
    fragment: Fragment,
    split: str,
    audio_info: Callable[[Mapping[str, object]], AudioInfo],
) -> Iterator[LhotseRows]:
    """Per clip and language: the clip's audio file as a recording, its text as a supervision.

    Ids are the clip uuids (unique over the dataset); `source` is relative to the dataset root,
    so load with `CutSet.from_file(...).with_recording_path_prefix(<dataset dir>)`.
    """
    files = {str(f["path"]): f for f in fragment.files}
    show = str(fragment.show["show"])
    for clip in fragment.clips:
        speakers = clip["speakers"]
        assert isinstance(speakers, list)
        for lang in ("ja", "en"):
            id_field, text_field = _CLIP_FIELDS[lang]
            clip_id = str(clip[id_field])
            entry = files[media_path("audio", clip_id)]
            info = audio_info(entry)
            samples = num_samples(int(entry["duration_ms"]), info.sampling_rate)  # type: ignore[call-overload]
            duration = samples / info.sampling_rate
            rid = clip_id.split("/")[1]
            channels = list(range(info.channels))
            recording: dict[str, object] = {
                "id": rid,
                "sources": [{"type": "file", "channels": channels, "source": entry["path"]}],
                "sampling_rate": info.sampling_rate,
                "num_samples": samples,
                "duration": duration,
                "channel_ids": channels,
            }
            supervision: dict[str, object] = {
                "id": rid,
                "recording_id": rid,
                "start": 0.0,
                "duration": duration,
                "channel": 0,
                "text": clip[text_field],
                "language": LANGUAGE_NAMES[lang],
                **({"speaker": speakers[0]} if speakers else {}),
                "custom": {"episode_id": fragment.episode_id, "show": show, "split": split},
            }
            cut: dict[str, object] = {
                "id": rid,
                "start": 0.0,
                "duration": duration,
                "channel": 0,
                "supervisions": [supervision],
                "recording": recording,
                "type": "MonoCut",
            }
            yield LhotseRows(recording, supervision, cut)


def entry_audio_info(entry: Mapping[str, object]) -> AudioInfo | None:
    """The rate and channels a files entry states, or None when it must be probed."""
    rate, channels = entry.get("sample_rate"), entry.get("channels")
    if isinstance(rate, int) and rate > 0:
        return AudioInfo(rate, channels if isinstance(channels, int) and channels > 0 else 1)
    return None
