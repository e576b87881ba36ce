"""A tiny synthetic episode pair (lavfi test video + tones) shared by the packaging tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from dubset_common.keys import canonical_json
from tests.unit.packaging.helpers import episode_doc, make_video, media_doc

SHOW = {"show": "Tiny Show", "season": "Tiny Show Season 1", "episodes": {"2": {"url": "x"}}}
OFFSET_MS = 1000
# (EN start, EN end); JA = EN + OFFSET_MS. The last clip runs past the JA video's end.
SPANS = [(500, 2300), (2600, 3100), (4000, 6420), (7000, 9600)]


@pytest.fixture(scope="session")
def episode(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("episode")
    ja = make_video(root / "ja.mp4", 10.0, freq=440)
    en = make_video(root / "en.mp4", 10.0, freq=660)
    return {"ja_video": ja, "en_video": en}


def docs(episode_id: str = "tiny-e2", spans: list[tuple[int, int]] = SPANS) -> dict[str, bytes]:
    clips = [
        {"start_ms": s, "end_ms": e, "ja_start_ms": s + OFFSET_MS, "ja_end_ms": e + OFFSET_MS,
         "en": [i], "ja": [i], "en_text": f"line {i}", "ja_text": f"行{i}"}
        for i, (s, e) in enumerate(spans)
    ]  # fmt: skip
    en_turns = [{"start_ms": s, "end_ms": e, "speaker": f"SPEAKER_0{i % 2}"}
                for i, (s, e) in enumerate(spans)]  # fmt: skip
    ja_turns = [{"start_ms": s + OFFSET_MS, "end_ms": e + OFFSET_MS, "speaker": f"J{i % 2}"}
                for i, (s, e) in enumerate(spans)]  # fmt: skip
    return {
        "clips": canonical_json({"clips": clips}),
        "ja_turns": canonical_json({"language": "ja", "turns": ja_turns}),
        "en_turns": canonical_json({"language": "en", "turns": en_turns}),
        "media": media_doc(OFFSET_MS),
        "episode": episode_doc(SHOW, "2", episode_id),
    }
