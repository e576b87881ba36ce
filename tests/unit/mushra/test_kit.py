"""`dubset mushra`: which clips become trials, what the stimuli sound like, what the page hides."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from scipy import signal

from dubset_cli.main import main
from dubset_cli.mushra.audio import RATE, low_pass
from dubset_cli.mushra.select import Candidate, MediaFile, pick
from tests.unit.mushra.fixture import LINES, NO_BASELINE, clip_id


def _cli(argv: list[str]) -> int:
    return main(argv)


@pytest.fixture(scope="module")
def kit(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("kit")
    assert _cli(["mushra", "--dataset", str(dataset), "--out", str(out), "--clips", "20"]) == 0
    return out


def _band_db(x: np.ndarray, lo: float, hi: float) -> float:
    f, p = signal.welch(x, RATE, nperseg=4096)
    return float(10 * np.log10(np.sum(p[(f >= lo) & (f < hi)]) + 1e-30))


def test_trials_skip_short_clips_and_clips_without_a_baseline(kit: Path) -> None:
    key = json.loads((kit / "trials.json").read_text())
    clips = [t["clip"] for t in key["trials"]]
    assert len(clips) == 4  # 6 EN clips, one under a second, one without a baseline
    assert clip_id(LINES[2][0], "en", 2) not in clips
    assert clip_id(LINES[NO_BASELINE][0], "en", NO_BASELINE) not in clips
    # spread over episodes: the first three trials come from three different episodes
    assert len({t["episode_id"] for t in key["trials"][:3]}) == 3
    for t in key["trials"]:
        assert sorted(c["system"] for c in t["conditions"]) == ["anchor", "baseline", "reference"]
        assert [c["label"] for c in t["conditions"]] == ["A", "B", "C"]


def test_page_names_no_system_and_loads_only_local_files(kit: Path) -> None:
    page = (kit / "index.html").read_text()
    key = json.loads((kit / "trials.json").read_text())
    data = page.split('<script type="application/json" id="kit-data">')[1].split("</script>")[0]
    assert json.loads(data)["kit"] == key["kit"]
    for word in ("system", "baseline", "anchor"):
        assert word not in data
    for t in json.loads(data)["trials"]:
        assert all(set(c) == {"label", "path"} for c in t["conditions"])
    for word in ("trials.json", "http://", "https://", 'src="//'):
        assert word not in page
    assert "<script src" not in page and "<link" not in page
    for t in key["trials"]:
        for c in t["conditions"]:
            assert c["path"] in page and (kit / c["path"]).is_file()


def test_anchor_is_band_limited_and_all_conditions_match_in_length_and_loudness(
    kit: Path,
) -> None:
    key = json.loads((kit / "trials.json").read_text())
    meter = pyloudnorm.Meter(RATE)
    for t in key["trials"]:
        audio = {c["system"]: sf.read(kit / c["path"])[0] for c in t["conditions"]}
        ref, _ = sf.read(kit / t["reference"]["path"])
        assert np.array_equal(ref, audio["reference"])  # the hidden reference is the reference
        assert len({a.size for a in audio.values()}) == 1
        assert audio["reference"].size == t["duration_ms"] * RATE // 1000
        loud = [meter.integrated_loudness(a) for a in audio.values()]
        assert max(loud) - min(loud) < 0.5, loud
        # the anchor keeps the speech band but loses everything a little above 3.5 kHz
        lo = _band_db(audio["anchor"], 300, 3000) - _band_db(audio["reference"], 300, 3000)
        hi = _band_db(audio["anchor"], 5000, 16000) - _band_db(audio["reference"], 5000, 16000)
        assert abs(lo) < 3.0, lo
        assert hi < -50.0, hi


def test_low_pass_response() -> None:
    rng = np.random.default_rng(1)
    noise = rng.standard_normal(RATE * 2)
    out = low_pass(noise, 3500.0)
    f, p_in = signal.welch(noise, RATE, nperseg=8192)
    _, p_out = signal.welch(out, RATE, nperseg=8192)
    gain = 10 * np.log10(p_out / p_in)
    assert abs(np.mean(gain[(f > 200) & (f < 2500)])) < 0.5  # flat passband
    assert np.max(gain[f > 5000]) < -60.0  # an octave up: stopband
    assert -8.0 < np.mean(gain[(f > 3400) & (f < 3600)]) < -4.0  # about -6 dB at the cutoff


def test_rebuild_gives_the_same_bytes_and_another_seed_another_order(
    dataset: Path, kit: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    assert _cli(["mushra", str(dataset), "--out", str(again), "--clips", "20"]) == 0
    for f in sorted(p.relative_to(kit) for p in kit.rglob("*") if p.is_file()):
        assert (again / f).read_bytes() == (kit / f).read_bytes(), f
    other = tmp_path / "other"
    assert _cli(["mushra", str(dataset), "--out", str(other), "--seed", "7"]) == 0
    a, b = (json.loads((d / "trials.json").read_text())["trials"] for d in (kit, other))
    order = [[c["system"] for c in t["conditions"]] for t in a + b]
    assert len({tuple(o) for o in order}) > 1  # labels do not always mean the same system


def test_pick_spreads_over_episodes_and_is_seeded() -> None:
    def cand(ep: str, n: int) -> Candidate:
        u = clip_id(ep, "en", n)
        m = MediaFile(f"anim400k_audio_clips/{u}.mp3", "0" * 64, 2000)
        return Candidate(u, ep, m, m)

    cands = tuple(cand(ep, n) for ep in ("e1", "e2", "e3") for n in range(10))
    chosen = pick(cands, 6, seed=3)
    assert [c.episode_id for c in chosen].count("e1") == 2
    assert pick(cands, 6, seed=3) == chosen
    assert pick(cands, 6, seed=4) != chosen
    assert len(pick(cands, 100, seed=3)) == 30


def test_tampered_file_or_dataset_without_baselines_is_refused(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "ds"
    shutil.copytree(dataset, copy)
    victim = next((copy / "anim400k_baseline_clips").rglob("*.mp3"))
    victim.write_bytes(victim.read_bytes()[:-100])
    assert _cli(["mushra", "--dataset", str(copy), "--out", str(tmp_path / "k")]) == 2
    assert "is not the manifest's" in capsys.readouterr().err
    lines = (copy / "manifest.jsonl").read_text().splitlines()
    kept = [ln for ln in lines if '"kind":"baseline"' not in ln]
    (copy / "manifest.jsonl").write_text("\n".join(kept) + "\n")
    assert _cli(["mushra", "--dataset", str(copy), "--out", str(tmp_path / "k")]) == 2
    assert "has a baseline dub" in capsys.readouterr().err
    assert _cli(["mushra", str(tmp_path), "--out", str(tmp_path / "k")]) == 2
    err = capsys.readouterr().err
    assert "no manifest.jsonl" in err and f"did you mean {copy}?" in err
    assert _cli(["mushra", "--out", str(tmp_path / "k")]) == 2
    assert "give one dataset" in capsys.readouterr().err
    assert _cli(["mushra", str(copy), "--dataset", str(copy), "--out", str(tmp_path / "k")]) == 2


def test_hostile_manifest_path_is_refused(dataset: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "ds"
    shutil.copytree(dataset, copy)
    text = (copy / "manifest.jsonl").read_text()
    text = text.replace('"path":"anim400k_baseline_clips/', '"path":"../../etc/', 1)
    (copy / "manifest.jsonl").write_text(text)
    assert _cli(["mushra", "--dataset", str(copy), "--out", str(tmp_path / "k")]) == 2
    assert "is not a clip mp3 of the dataset" in capsys.readouterr().err
