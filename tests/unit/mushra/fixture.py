"""A small exported dataset with baseline dubs: espeak-ng speech in real mp3 files."""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from pathlib import Path

NS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")
LINES = [
    ("ep-one", "I never thought we would make it this far.", 3000),
    ("ep-one", "Get back up, the fight is not over yet.", 2600),
    ("ep-one", "Hm.", 600),  # under a second: never a trial
    ("ep-two", "The culprit is still in this room.", 2400),
    ("ep-two", "Our journey has only just begun.", 2400),
    ("ep-three", "Don't worry about it, it's no big deal.", 2800),
]
NO_BASELINE = 4  # index into LINES of a clip whose baseline is missing


def clip_id(episode: str, lang: str, i: int) -> str:
    u = str(uuid.uuid5(NS, f"{episode}:{lang}:{i}"))
    return f"{u[:2]}/{u}"


def _mp3(text: str, voice: str, ms: int, out: Path, noise: float) -> None:
    wav = out.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "170", "-w", str(wav), text], check=True)
    # speech over a faint wideband bed, so the reference has energy up to 16 kHz
    graph = (
        f"[0:a]aresample=44100,aformat=channel_layouts=mono,apad[s];"
        f"anoisesrc=r=44100:a={noise}:c=pink:seed=7[n];[s][n]amix=inputs=2:duration=first:"
        f"normalize=0,atrim=0:{ms / 1000}"
    )
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(wav),
            "-filter_complex",
            graph,
            "-ac",
            "1",
            "-ar",
            "44100",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
            "-fflags",
            "+bitexact",
            "-map_metadata",
            "-1",
            str(out),
        ],
        check=True,
    )
    wav.unlink()


def _entry(root: Path, rel: str, kind: str, lang: str, clip: str, ep: str, ms: int) -> dict:
    data = (root / rel).read_bytes()
    return {
        "bytes": len(data),
        "clip": clip,
        "codec": "mp3",
        "duration_ms": ms,
        "episode_id": ep,
        "kind": kind,
        "language": lang,
        "path": rel,
        "provenance": {"packaging": "test"},
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def make_dataset(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    manifest, episodes = [], {}
    for i, (ep, text, ms) in enumerate(LINES):
        en, ja = clip_id(ep, "en", i), clip_id(ep, "ja", i)
        for rel, voice, noise in (
            (f"anim400k_audio_clips/{en}.mp3", "en-us+m3", 0.02),
            (f"anim400k_audio_clips/{ja}.mp3", "ja", 0.02),
            (f"anim400k_baseline_clips/{en}.mp3", "en-us+f2", 0.0),
        ):
            if rel.startswith("anim400k_baseline") and i == NO_BASELINE:
                continue
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            _mp3(text, voice, ms, root / rel, noise)
            kind = "baseline" if "baseline" in rel else "audio"
            lang = "ja" if ja in rel else "en"
            manifest.append(_entry(root, rel, kind, lang, en if lang == "en" else ja, ep, ms))
        episodes.setdefault(ep, []).append(
            {
                "jp_clip": ja,
                "en_clip": en,
                "jp_text": "",
                "en_text": text,
                "jp_start_time": "00:00:01.000",
                "jp_end_time": "00:00:02.000",
                "en_start_time": "00:00:01.000",
                "en_end_time": "00:00:02.000",
                "speakers": ["SPEAKER_00"],
            }
        )
    manifest.sort(key=lambda e: e["path"])
    (root / "manifest.jsonl").write_text(
        "".join(json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n" for e in manifest)
    )
    show = {
        "show": "Fixture Show",
        "season": "1",
        "episodes": {str(k + 1): {"clips": c} for k, c in enumerate(episodes.values())},
    }
    (root / "anim400k_annotations.json").write_text(
        json.dumps({"train": [show], "val": [], "test": []})
    )
    return root
