"""Test material for export/verify: real tiny mp3/mp4 clips and episode fragments in a store."""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
import tempfile
import uuid
from pathlib import Path

from dubset_common.anim400k import format_time, normalize_episode_info, normalize_show
from dubset_common.keys import canonical_json
from dubset_common.objstore import LocalStore

NAMESPACE = uuid.UUID("6f1c2a52-3d8e-5b7a-9c41-0d5e6a7b8c9d")


@functools.cache
def media(kind: str) -> tuple[bytes, int]:
    """A real clip (bytes, duration in ms): 1 s of 440 Hz mp3, or a 1 s H.264+AAC mp4."""
    out = (
        Path(tempfile.mkdtemp(prefix="dubset-test-media-"))
        / f"clip.{'mp3' if kind == 'audio' else 'mp4'}"
    )
    if kind == "audio":
        args = ["-f", "lavfi", "-i", "sine=f=440:d=1:sample_rate=44100", "-ac", "1"]
        args += ["-c:a", "libmp3lame", "-b:a", "64k"]
    else:
        args = ["-f", "lavfi", "-i", "testsrc=s=64x48:d=1:r=10", "-f", "lavfi"]
        args += ["-i", "sine=d=1", "-c:v", "libx264", "-c:a", "aac", "-shortest"]
    args += ["-fflags", "+bitexact", "-map_metadata", "-1", "-threads", "1"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(out)], check=True)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.read_bytes(), round(float(probe.stdout) * 1000)


def show(name: str, season: str = "1", **extra: object) -> dict[str, object]:
    return normalize_show({"show": name, "season": season, "genres": ["Action"], **extra})


def clip_id(episode_id: str, lang: str, start: int, end: int, encoding: str = "") -> str:
    u = str(uuid.uuid5(NAMESPACE, f"{episode_id}/{lang}/{start}/{end}/{encoding}"))
    return f"{u[:2]}/{u}"


def add_episode(
    store: LocalStore,
    dataset: str,
    show_value: dict[str, object],
    number: str,
    num_clips: int = 3,
    video: bool = True,
    episode_id: str | None = None,
    sample_rate: bool = True,
    encoding: str = "",
) -> dict[str, object]:
    """Media files plus the fragment datasets/<dataset>/episodes/<episode_id>.json."""
    episode_id = episode_id or f"{show_value['show']}-s{show_value['season']}-e{number}".replace(
        " ", "_"
    )
    root = f"datasets/{dataset}"
    clips, files = [], []
    for i in range(num_clips):
        start, end = 1000 * i, 1000 * i + 800
        ids = {
            lang: clip_id(episode_id, lang, start + 50, end + 50, encoding) for lang in ("ja", "en")
        }
        clips.append(
            {
                "jp_clip": ids["ja"],
                "en_clip": ids["en"],
                "jp_text": f"こんにちは {i}",
                "en_text": f"hello {i}",
                "jp_start_time": format_time(start + 50),
                "jp_end_time": format_time(end + 50),
                "en_start_time": format_time(start),
                "en_end_time": format_time(end),
                "speakers": [f"SPEAKER_0{i % 2}"],
            }
        )
        for lang, cid in ids.items():
            for kind in ("audio", "video") if video else ("audio",):
                data, duration = media(kind)
                folder, ext = ("anim400k_audio_clips", "mp3")
                if kind == "video":
                    folder, ext = ("anim400k_video_clips", "mp4")
                path = f"{folder}/{cid}.{ext}"
                store.put_bytes(f"{root}/{path}", data)
                entry = {
                    "path": path,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "bytes": len(data),
                    "duration_ms": duration,
                    "codec": "mp3" if kind == "audio" else "h264+aac",
                    "kind": kind,
                    "language": lang,
                    "clip": cid,
                    "episode_id": episode_id,
                }
                if kind == "audio" and sample_rate:
                    entry["sample_rate"] = 44100
                files.append(entry)
    info = normalize_episode_info({"url": f"https://example.org/{episode_id}"})
    fragment = {
        "format": "dubset-dataset-episode/1",
        "episode_id": episode_id,
        "episode_number": number,
        "show": show_value,
        "episode": {**info, "clips": clips},
        "files": sorted(files, key=lambda f: str(f["path"])),
        "provenance": {"asr.ja": "fake", "packaging": "test"},
    }
    store.put_bytes(f"{root}/episodes/{episode_id}.json", canonical_json(fragment))
    return fragment


def read_json(path: Path) -> object:
    return json.loads(path.read_bytes())


def test_fixture_media_are_real_clips() -> None:
    data, duration = media("audio")
    assert data[:3] == b"ID3" or data[0] == 0xFF
    assert 950 <= duration <= 1100
