"""`dubset sample` end to end: real voices, bed, picture; truth consistent with the media."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset_cli.main import main
from dubset_sample.generate import SampleError, SampleOptions, generate

pytestmark = pytest.mark.slow

SHOW_FIELDS = {
    "show": str, "season": str, "link": str, "type": str, "status": str, "genres": list,
    "themes": list, "score": float, "scored_by": int, "rank": int, "popularity": int,
    "members": int, "favorites": int, "episode_num": int, "aired": str, "premiered": str,
    "broadcast": str, "producers": list, "licensors": list, "studios": list, "source": str,
    "avg_duration": str, "rating": str, "related_anime": dict, "opening_themes": list,
    "ending_themes": list, "staff": list, "background": str, "synopsis": str,
    "characters": dict, "episodes": dict,
}  # fmt: skip


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(SampleOptions(out=out, seconds=14, characters=2, seed=5, ja_offset_ms=1500))
    return out


def probe(path: Path) -> dict:
    raw = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(raw)


def load(path: Path) -> np.ndarray:
    audio, _ = sf.read(path, dtype="float32")
    return audio


def test_videos_are_h264_aac_at_23976_and_as_long_as_the_truth_says(episode: Path) -> None:
    truth = json.loads((episode / "truth.json").read_text())
    for lang in ("ja", "en"):
        info = probe(episode / f"{lang}.mp4")
        kinds = {s["codec_type"]: s for s in info["streams"]}
        assert kinds["video"]["codec_name"] == "h264"
        assert kinds["video"]["r_frame_rate"] == "24000/1001"
        assert kinds["audio"]["codec_name"] == "aac"
        seconds = float(info["format"]["duration"])
        assert seconds == pytest.approx(truth["duration_ms"][lang] / 1000, abs=0.1)
    # JA time = EN time + offset: the JA release has the longer intro here.
    assert truth["duration_ms"]["ja"] - truth["duration_ms"]["en"] == 1500


def test_dialogue_stems_hold_exactly_the_truth_lines(episode: Path) -> None:
    truth = json.loads((episode / "truth.json").read_text())
    rate = truth["sample_rate"]
    assert len(truth["lines"]) >= 3
    for lang in ("ja", "en"):
        audio = load(episode / truth["stems"][lang]["dialogue"])
        mask = np.zeros(len(audio), bool)
        for line in truth["lines"]:
            span = line[lang]
            a, b = span["start_ms"] * rate // 1000, span["end_ms"] * rate // 1000
            assert np.sqrt(np.mean(audio[a:b] ** 2)) > 0.02, (lang, line["index"])
            mask[a : b + rate // 1000] = True  # times are whole ms: allow the rounding
        assert not np.any(audio[~mask]), f"{lang}: speech outside the truth lines"


def test_both_languages_share_one_bed_shifted_by_the_offset(episode: Path) -> None:
    truth = json.loads((episode / "truth.json").read_text())
    shift = truth["ja_offset_ms"] * truth["sample_rate"] // 1000
    ja, en, bed = (load(episode / f"{n}.wav") for n in ("ja_backing", "en_backing", "backing"))
    assert np.array_equal(ja[shift:], en) and np.array_equal(en, bed)
    assert np.sqrt(np.mean(ja[:shift] ** 2)) > 0.01  # the JA-only intro is not silence


def test_truth_pairs_cover_every_line_and_shots_tile_the_video(episode: Path) -> None:
    truth = json.loads((episode / "truth.json").read_text())
    covered = sorted(i for p in truth["pairs"] for i in p["lines"])
    assert covered == list(range(len(truth["lines"])))
    for lang in ("ja", "en"):
        shots = truth["shots"][lang]
        assert shots[0]["start_ms"] == 0 and shots[-1]["end_ms"] == truth["duration_ms"][lang]
        assert all(a["end_ms"] == b["start_ms"] for a, b in itertools.pairwise(shots))
    ids = {c["id"] for c in truth["characters"]}
    assert {ln["speaker"] for ln in truth["lines"]} <= ids


def test_show_json_has_every_anim400k_show_field(episode: Path) -> None:
    show = json.loads((episode / "show.json").read_text())
    for field, kind in SHOW_FIELDS.items():
        assert isinstance(show[field], kind), field
    assert set(show["characters"]) == {"Aoi", "Kaito"}  # the first two of the cast
    assert list(show["episodes"]) == ["1"]


def test_same_seed_same_bytes(episode: Path, tmp_path: Path) -> None:
    generate(SampleOptions(out=tmp_path, seconds=14, characters=2, seed=5, ja_offset_ms=1500))
    names = sorted(p.name for p in episode.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:
        assert (episode / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_negative_offset_and_noise(tmp_path: Path) -> None:
    generate(SampleOptions(out=tmp_path, seconds=8, characters=1, seed=2, ja_offset_ms=-700,
                           noise_db=20.0))  # fmt: skip
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["duration_ms"]["en"] - truth["duration_ms"]["ja"] == 700
    ja, en = load(tmp_path / "ja_backing.wav"), load(tmp_path / "en_backing.wav")
    shift = 700 * truth["sample_rate"] // 1000
    # Each release has its own noise on top of the shared bed.
    residual = en[shift:] - ja
    assert 0.001 < np.sqrt(np.mean(residual**2)) < 0.05


@pytest.mark.parametrize(
    "args",
    [
        ["--seconds", "1"],
        ["--characters", "9"],
        ["--overlap-rate", "0.9"],
        ["--ja-offset-ms", "9999999"],
        ["--seed", "-1"],
    ],
)
def test_bad_options_exit_2_with_a_message(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sample", "--out", str(tmp_path / "x"), *args]) == 2
    assert "dubset sample:" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_missing_art_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(Exception, match=r"make setup|DUBSET_ART_DIR"):
        generate(SampleOptions(out=tmp_path, seconds=8, art_dir=tmp_path / "none"))
    with pytest.raises(SampleError):
        SampleOptions(out=tmp_path, seconds=3).validate()


def test_librivox_fixture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not Path("/usr/share/pocketsphinx/test/data/librivox/transcription").exists():
        pytest.skip("pocketsphinx-testdata not installed")  # make setup installs it
    assert main(["sample", "--librivox", "--out", str(tmp_path)]) == 0
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert len(truth["lines"]) == 5
    assert truth["lines"][1]["en"]["text"] == "he was not an ill disposed young man"
    audio = load(tmp_path / "en_dialogue.wav")
    assert len(audio) == truth["duration_ms"]["en"] * truth["sample_rate"] // 1000
    assert os.path.getsize(tmp_path / "en_dialogue.wav") > 100_000


def test_episodes_of_one_show_differ_in_content_but_episode_1_keeps_the_show_seed() -> None:
    first = SampleOptions(out=Path("x"), seed=7, episode=1)
    second = SampleOptions(out=Path("x"), seed=7, episode=2)
    assert first.content_seed == 7
    assert second.content_seed != 7
    assert second.content_seed == SampleOptions(out=Path("y"), seed=7, episode=2).content_seed
    assert SampleOptions(out=Path("x"), seed=7, episode=3).content_seed != second.content_seed
