"""A tiny fake test episode (truth.json + stems) and a result tree of every recognised kind."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 8000
SHOW = "Fake Show"

LINES = [
    # speaker, en text, en span, ja text, ja span
    ("S0", "The cat sat on the mat.", (1000, 3000), "今日は良い天気です。", (2500, 4500)),
    ("S1", "I have 3 apples!", (3050, 5000), "りんごが三つある。", (4550, 6500)),
    ("S0", "Goodbye.", (9000, 10000), "さようなら。", (10500, 11500)),
]

# Result clip ids of the dataset: one per language per clip pair.
CLIP_IDS = [
    ("0a/0a000000-0000-0000-0000-000000000001", "0b/0b000000-0000-0000-0000-000000000002"),
    ("0c/0c000000-0000-0000-0000-000000000003", "0d/0d000000-0000-0000-0000-000000000004"),
]


def tone(freq: float, amp: float, rate: int = RATE, seconds: float = 1.0) -> np.ndarray:
    """Whole periods of a sine: zero-mean, and orthogonal to any other such tone."""
    t = np.arange(int(rate * seconds)) / rate
    return amp * np.sin(2 * np.pi * freq * t)


def dialogue() -> np.ndarray:
    return tone(200, 0.5)


def backing() -> np.ndarray:
    return tone(300, 0.25)


def write_json(path: Path, value: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, rate, subtype="DOUBLE")
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def truth_value() -> dict[str, object]:
    lines = [
        {
            "index": i,
            "line_id": f"L{i:03d}",
            "speaker": spk,
            "ja": {"text": ja, "start_ms": js, "end_ms": je},
            "en": {"text": en, "start_ms": es, "end_ms": ee},
        }
        for i, (spk, en, (es, ee), ja, (js, je)) in enumerate(LINES)
    ]
    stems = {lang: {k: f"{lang}_{k}.wav" for k in ("dialogue", "backing")} for lang in ("ja", "en")}
    return {
        "format": "dubset-truth/1",
        "generator": {"seed": 1, "seconds": 12, "characters": 2, "version": "1"},
        "episode_id": "fake-1-e01",
        "show": SHOW,
        "episode_number": 1,
        "sample_rate": RATE,
        "ja_offset_ms": 1500,
        "duration_ms": {"ja": 13500, "en": 12000},
        "characters": [
            {"id": "S0", "name": "Aoi", "voices": {}, "sprite": "eileen"},
            {"id": "S1", "name": "Ren", "voices": {}, "sprite": "lucy"},
        ],
        "lines": lines,
        "pairs": [
            {
                "lines": [0, 1],
                "ja_start_ms": 2500,
                "ja_end_ms": 6500,
                "en_start_ms": 1000,
                "en_end_ms": 5000,
                "speakers": ["S0", "S1"],
            },
            {
                "lines": [2],
                "ja_start_ms": 10500,
                "ja_end_ms": 11500,
                "en_start_ms": 9000,
                "en_end_ms": 10000,
                "speakers": ["S0"],
            },
        ],
        "shots": {"ja": [], "en": []},
        "stems": {**stems, "backing": "backing.wav"},
        "videos": {"ja": "ja.mp4", "en": "en.mp4"},
    }


def write_truth(folder: Path) -> Path:
    """truth.json and its stems; dialogue and backing are orthogonal."""
    for lang in ("ja", "en"):
        write_wav(folder / f"{lang}_dialogue.wav", dialogue())
        write_wav(folder / f"{lang}_backing.wav", backing())
    write_wav(folder / "backing.wav", backing())
    return write_json(folder / "truth.json", truth_value())


def write_stage_manifest(folder: Path, stage: str, language: str | None) -> Path:
    outputs = {
        p.stem: {
            "key": f"stages/{stage}/k1/{p.name}",
            "sha256": sha256(p),
            "size_bytes": p.stat().st_size,
            "content_type": "application/octet-stream",
        }
        for p in sorted(folder.iterdir())
        if p.name != "_manifest.json"
    }
    params = {"language": language} if language else {}
    return write_json(
        folder / "_manifest.json",
        {
            "stage": stage,
            "version": "1",
            "key": "k1",
            "backend": "fake",
            "params": params,
            "inputs": {},
            "outputs": outputs,
            "info": {},
        },
    )


def hms(ms: int) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def write_dataset(folder: Path) -> Path:
    """An Anim-400K export of the truth's two pairs, texts exact, with manifest.jsonl."""
    truth = truth_value()
    pairs = truth["pairs"]
    assert isinstance(pairs, list)
    clips = []
    entries = []
    for pair, (jp_id, en_id), texts in zip(
        pairs, CLIP_IDS, [(LINES[0], LINES[1]), (LINES[2],)], strict=True
    ):
        clips.append(
            {
                "jp_clip": jp_id,
                "en_clip": en_id,
                "jp_text": "".join(t[3] for t in texts),
                "en_text": " ".join(t[1] for t in texts),
                "jp_start_time": hms(pair["ja_start_ms"]),
                "jp_end_time": hms(pair["ja_end_ms"]),
                "en_start_time": hms(pair["en_start_ms"]),
                "en_end_time": hms(pair["en_end_ms"]),
                "speakers": pair["speakers"],
            }
        )
        for clip_id in (jp_id, en_id):
            for sub, ext in (("anim400k_audio_clips", "mp3"), ("anim400k_video_clips", "mp4")):
                rel = f"{sub}/{clip_id}.{ext}"
                path = folder / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(f"fake {ext} of {clip_id}".encode())
                entries.append(
                    {
                        "path": rel,
                        "sha256": sha256(path),
                        "bytes": path.stat().st_size,
                        "duration_ms": 1000,
                        "codec": ext,
                    }
                )
    (folder / "manifest.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    episode = {
        "url": "",
        "ratings": {},
        "jp_video_id": "",
        "en_video_id": "",
        "synopsis": "",
        "clips": clips,
    }
    other = {
        "url": "",
        "ratings": {},
        "jp_video_id": "",
        "en_video_id": "",
        "synopsis": "",
        "clips": [],
    }
    show = {"show": SHOW, "season": "1", "episodes": {"1": episode, "2": other}}
    return write_json(
        folder / "anim400k_annotations.json", {"train": [show], "val": [], "test": []}
    )


def write_results(folder: Path) -> Path:
    """One result of every kind; the expected scores are worked out in test_evaluate.py."""
    write_json(
        folder / "asr" / "en" / "segments.json",
        {
            "language": "en",
            "segments": [
                {"start_ms": 9000, "end_ms": 10000, "text": "goodbye"},
                {"start_ms": 1000, "end_ms": 3000, "text": "the cat sit on mat"},
                {"start_ms": 3050, "end_ms": 5000, "text": "I have three apples"},
            ],
        },
    )
    write_json(
        folder / "asr" / "ja" / "segments.json",
        {
            "language": "ja",
            "segments": [
                {"start_ms": 2500, "end_ms": 4500, "text": "今日は悪い天気でした"},
                {"start_ms": 4550, "end_ms": 6500, "text": "りんごが三つある"},
                {"start_ms": 10500, "end_ms": 11500, "text": "さようなら"},
            ],
        },
    )
    write_json(
        folder / "diarization" / "en.json",
        {
            "language": "english",
            "turns": [
                {"speaker": "spk_1", "start_ms": 1000, "end_ms": 3000},
                {"speaker": "spk_0", "start_ms": 3050, "end_ms": 5000},
                {"speaker": "spk_1", "start_ms": 9000, "end_ms": 10000},
            ],
        },
    )
    write_json(
        folder / "diarization" / "ja.json",
        {
            "language": "ja",
            "turns": [
                {"speaker": 0, "start_ms": 2500, "end_ms": 6500},
                {"speaker": 1, "start_ms": 10500, "end_ms": 11500},
            ],
        },
    )
    stage = folder / "stages" / "separation" / "k1"
    write_wav(stage / "dialogue.wav", dialogue() + tone(500, 0.05))
    noisy_backing = tone(300, 0.25, 16000) + tone(500, 0.025, 16000)
    write_wav(stage / "backing.wav", np.stack([noisy_backing, noisy_backing], axis=1), 16000)
    write_stage_manifest(stage, "separation", "ja")
    write_wav(folder / "sep" / "en_dialogue.wav", dialogue())
    write_json(
        folder / "align" / "clips.json",
        {
            "clips": [
                {"start_ms": 1010, "end_ms": 5020, "ja_start_ms": 2480, "ja_end_ms": 6500},
                {"start_ms": 9000, "end_ms": 10000, "ja_start_ms": 10500, "ja_end_ms": 11600},
                {"start_ms": 20000, "end_ms": 21000, "ja_start_ms": 21500, "ja_end_ms": 22500},
            ],
            "unpaired_en": [],
            "unpaired_ja": [],
        },
    )
    write_json(folder / "media" / "offset.json", {"offset": {"ja_offset_ms": 1480}})
    (folder / "notes.txt").write_text("not a result")
    write_dataset(folder / "dataset")
    return folder
