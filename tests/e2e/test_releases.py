"""Real releases' shapes through `dubset run`: one dual-audio MKV, and a PAL speed-up with an
English subtitle file, scored against their truth like the plain episodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from dubset_cli.main import main as dubset
from dubset_eval.evaluate import evaluate
from tests.e2e.conftest import Episode
from tests.e2e.test_pipeline import MAX_EN_WER, MIN_CLIP_F1

MAX_MAP_P95_MS = 40.0

pytestmark = pytest.mark.timeout(1200)


# b1 (a card inserted, 5.1) goes through the services in test_pipeline.py with the same checks
# (floors, its map's p95 and pieces); a2 and c1 also test `dubset run --episode` and
# `--en-subs`, and c1 the subtitle timing scores that need the stage outputs.
@pytest.mark.parametrize("name", ["a2", "c1"])
def test_a_shaped_release_through_dubset_run(
    episodes: dict[str, Episode], tmp_path: Path, name: str
) -> None:
    ep = episodes[name]
    out = tmp_path / "out"
    args = ["run", *ep.files, "--show", str(ep.show), "--episode-number", str(ep.number)]
    assert dubset([*args, "--out", str(out), "--no-tts", "--no-faces", "--no-quality"]) == 0
    report = evaluate(ep.truth, out)
    dataset_clips = [r for r in report.clips if "anim400k_annotations" in r.source]
    assert dataset_clips, report.problems
    score = dataset_clips[0].score
    assert score.f1 is not None and score.f1 >= MIN_CLIP_F1, score
    en = [r for r in report.asr if r.language == "en"]
    assert en and en[0].counts.rate is not None and en[0].counts.rate <= MAX_EN_WER
    (media,) = [r for r in report.offsets if r.source.endswith("media.json")]
    assert media.time_map is not None and media.time_map.p95_ms is not None
    assert media.time_map.p95_ms <= MAX_MAP_P95_MS, media.time_map
    assert media.time_map.coverage >= 0.95
    if "subs" in ep.shapes:
        (row,) = [r for r in report.subtitles if r.language == "en" and r.kind == "all"]
        assert row.score.segments and row.score.matched == row.score.segments, row
        assert row.score.named and row.score.named_right == row.score.named, row
