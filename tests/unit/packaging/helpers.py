"""Input documents for packaging tests: oracle clips and turns from a sample's truth.json."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from dubset_common.keys import canonical_json


def make_video(path: Path, seconds: float, *, freq: int = 440, audio_streams: int = 1) -> Path:
    """A small H.264 + AAC test video (testsrc + sine), 23.976 fps, 320x240."""
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi"]
    argv += ["-i", f"testsrc=size=320x240:rate=24000/1001:duration={seconds}"]
    for k in range(audio_streams):
        argv += ["-f", "lavfi", "-i", f"sine=frequency={freq + 110 * k}:duration={seconds}"]
    argv += ["-map", "0:v"] + [x for k in range(audio_streams) for x in ("-map", f"{k + 1}:a")]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-g", "48", "-c:a", "aac", "-ar", "48000"]
    subprocess.run([*argv, "-y", str(path)], check=True)
    return path


def media_doc(ja_offset_ms: int, ja_stream: int = 1, en_stream: int = 1) -> bytes:
    return canonical_json(
        {
            "format": "dubset-media/1",
            "audio": {"ja": {"stream_index": ja_stream}, "en": {"stream_index": en_stream}},
            "offset": {"ja_offset_ms": ja_offset_ms},
        }
    )


def episode_doc(show: dict[str, object], number: str, episode_id: str) -> bytes:
    episodes = show.get("episodes", {})
    assert isinstance(episodes, dict)
    info = dict(episodes.get(number, {}))
    info.setdefault("jp_video_id", "a" * 64)
    info.setdefault("en_video_id", "b" * 64)
    return canonical_json(
        {
            "format": "dubset-episode/1",
            "episode_id": episode_id,
            "episode_number": number,
            "show": {k: v for k, v in show.items() if k != "episodes"},
            "episode": info,
            "provenance": {"alignment": "oracle", "diarization.en": "oracle"},
        }
    )


def oracle_docs(episode_dir: Path) -> dict[str, bytes]:
    """clips (the truth pairs), turns (truth lines; EN speakers as SPEAKER_nn, JA ones under
    other names in another order), media and the episode document of a `dubset sample` dir."""
    truth = json.loads((episode_dir / "truth.json").read_text())
    show = json.loads((episode_dir / "show.json").read_text())
    lines = truth["lines"]
    clips = [
        {
            "start_ms": p["en_start_ms"],
            "end_ms": p["en_end_ms"],
            "ja_start_ms": p["ja_start_ms"],
            "ja_end_ms": p["ja_end_ms"],
            "en": p["lines"],
            "ja": p["lines"],
            "en_text": " ".join(lines[i]["en"]["text"] for i in p["lines"]),
            "ja_text": "".join(lines[i]["ja"]["text"] for i in p["lines"]),
        }
        for p in truth["pairs"]
    ]
    ids = sorted({ln["speaker"] for ln in lines})
    turns = {
        lang: {
            "language": lang,
            "turns": [
                {
                    "start_ms": ln[lang]["start_ms"],
                    "end_ms": ln[lang]["end_ms"],
                    "speaker": (
                        f"SPEAKER_{ids.index(ln['speaker']):02d}"
                        if lang == "en"
                        else f"JA{len(ids) - ids.index(ln['speaker'])}"
                    ),
                }
                for ln in lines
            ],
        }
        for lang in ("ja", "en")
    }
    return {
        "clips": canonical_json({"clips": clips}),
        "ja_turns": canonical_json(turns["ja"]),
        "en_turns": canonical_json(turns["en"]),
        "media": media_doc(truth["ja_offset_ms"]),
        "episode": episode_doc(show, str(truth["episode_number"]), truth["episode_id"]),
    }
