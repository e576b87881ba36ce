"""export and the quality stage's signals: every manifest line of a scored pair carries them; a
filtered export writes the pairs that pass, with their media, into a dataset of its own that
verifies, and lists the rest with the reason; a stale or malformed quality fragment is handled
like the other fragments."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from dubset_common.clipquality import SIGNALS, Thresholds
from dubset_common.keys import canonical_json
from dubset_common.objstore import LocalStore
from dubset_packaging.core.export import ExportError
from dubset_packaging.datasetfiles import LocalDatasetFiles
from dubset_packaging.exporter import ExportOptions, export_dataset
from dubset_packaging.verifier import verify_dataset

from .test_export_fixtures import add_episode, show

DS = "demo"
Fragment = dict[str, object]


def add_quality(
    store: LocalStore, fragment: Fragment, scores: list[float], sha256: str | None = None
) -> None:
    """The quality stage's fragment: per pair every signal, the first pair's DNSMOS low."""
    episode_id = str(fragment["episode_id"])
    raw = store.get_bytes(f"datasets/{DS}/episodes/{episode_id}.json")
    clips = fragment["episode"]["clips"]  # type: ignore[index]
    scored = {}
    for i, (clip, score) in enumerate(zip(clips, scores, strict=True)):
        signals: dict[str, float | None] = dict.fromkeys(SIGNALS, 0.5)
        signals["dnsmos_ja"], signals["dnsmos_en"] = (2.0 if i == 0 else 3.5), 3.5
        signals["agreement_en"] = None
        scored[clip["jp_clip"]] = {"en_clip": clip["en_clip"], **signals, "score": score}
    doc = {
        "format": "dubset-dataset-quality/1",
        "episode_id": episode_id,
        "episode_sha256": sha256 or hashlib.sha256(raw).hexdigest(),
        "provenance": {"quality": "dubset-quality"},
        "clips": scored,
    }
    store.put_bytes(f"datasets/{DS}/quality/{episode_id}.json", canonical_json(doc))


def _lines(root: Path) -> list[dict[str, object]]:
    return [json.loads(ln) for ln in (root / "manifest.jsonl").read_text().splitlines()]


def test_every_line_of_a_scored_pair_carries_its_signals(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    alpha = add_episode(store, DS, show("Alpha"), "1", num_clips=2)
    add_episode(store, DS, show("Beta"), "1", num_clips=1)  # never scored
    export_dataset(store, ExportOptions(DS))
    before = store.get_bytes(f"datasets/{DS}/anim400k_annotations.json")
    add_quality(store, alpha, [0.9, 0.4])
    summary = export_dataset(store, ExportOptions(DS))
    assert summary.num_scored_clips == 2 and summary.warnings == ()
    root = tmp_path / "datasets" / DS
    assert (root / "anim400k_annotations.json").read_bytes() == before  # Anim-400K unchanged
    by_episode: dict[object, list[object]] = {}
    for line in _lines(root):
        by_episode.setdefault(line["episode_id"], []).append(line.get("quality"))
    alpha_q = by_episode[alpha["episode_id"]]
    assert all(isinstance(q, dict) and set(q) == {*SIGNALS, "score"} for q in alpha_q)
    assert sorted(q["score"] for q in alpha_q) == [0.4, 0.4, 0.4, 0.4, 0.9, 0.9, 0.9, 0.9]  # type: ignore[index]
    assert all(q is None for q in by_episode["Beta-s1-e1"])
    report = verify_dataset(LocalDatasetFiles(root))
    assert report.ok, report.problems


def test_a_filtered_export_is_a_complete_dataset_of_its_own(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    alpha = add_episode(store, DS, show("Alpha"), "1", num_clips=3)
    add_episode(store, DS, show("Beta"), "1", num_clips=1)  # never scored: dropped
    add_quality(store, alpha, [0.9, 0.4, 0.8])
    options = ExportOptions(DS, thresholds=Thresholds(min_quality=0.5, min_dnsmos=2.5), to="q")
    summary = export_dataset(store, options)
    kept_root, source = tmp_path / "datasets" / "q", tmp_path / "datasets" / DS
    report = verify_dataset(LocalDatasetFiles(kept_root))
    assert report.ok, report.problems
    annotations = json.loads((kept_root / "anim400k_annotations.json").read_text())
    clips = [c for split in annotations.values() for s in split
             for e in s["episodes"].values() for c in e["clips"]]  # fmt: skip
    alpha_clips = alpha["episode"]["clips"]  # type: ignore[index]
    assert [c["jp_clip"] for c in clips] == [alpha_clips[2]["jp_clip"]]
    assert {line["clip"] for line in _lines(kept_root)} == {
        alpha_clips[2]["jp_clip"], alpha_clips[2]["en_clip"],
    }  # fmt: skip
    dropped = [json.loads(ln) for ln in (kept_root / "dropped.jsonl").read_text().splitlines()]
    reasons = {d["jp_clip"]: d["reasons"] for d in dropped}
    assert reasons[alpha_clips[0]["jp_clip"]] == ["dnsmos_ja 2.000 < 2.5"]
    assert reasons[alpha_clips[1]["jp_clip"]] == ["quality 0.400 < 0.5"]
    assert len(dropped) == 3 and len(summary.dropped) == 3
    assert any("not scored" in r[0] for r in reasons.values())
    # The source dataset is untouched, and a stricter re-run removes what it no longer keeps.
    assert not (source / "manifest.jsonl").exists()
    export_dataset(store, ExportOptions(DS, thresholds=Thresholds(min_quality=0.95), to="q"))
    assert not list((kept_root / "anim400k_audio_clips").rglob("*.mp3"))
    assert verify_dataset(LocalDatasetFiles(kept_root)).ok


def test_a_filter_needs_a_dataset_of_its_own(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    add_episode(store, DS, show("Alpha"), "1")
    with pytest.raises(ExportError, match="--to"):
        export_dataset(store, ExportOptions(DS, thresholds=Thresholds(min_quality=0.5)))
    with pytest.raises(ExportError, match="overwrite its source"):
        export_dataset(store, ExportOptions(DS, thresholds=Thresholds(min_quality=0.5), to=DS))
    with pytest.raises(ExportError, match="give a threshold"):
        export_dataset(store, ExportOptions(DS, to="other"))


def test_stale_quality_is_skipped_and_malformed_quality_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    alpha = add_episode(store, DS, show("Alpha"), "1", num_clips=2)
    add_quality(store, alpha, [0.9, 0.4], sha256="0" * 64)
    summary = export_dataset(store, ExportOptions(DS))
    assert summary.num_scored_clips == 0
    assert any("quality/Alpha-s1-e1.json" in w and "quality stage" in w for w in summary.warnings)
    add_quality(store, alpha, [0.9, 1.4])
    with pytest.raises(ExportError, match=r"score must be a number in 0\.\.1"):
        export_dataset(store, ExportOptions(DS))


def test_verify_finds_a_malformed_quality_field(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    alpha = add_episode(store, DS, show("Alpha"), "1", num_clips=1)
    add_quality(store, alpha, [0.9])
    export_dataset(store, ExportOptions(DS))
    root = tmp_path / "datasets" / DS
    lines = (root / "manifest.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["quality"]["score"] = "high"
    (root / "manifest.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    problems = verify_dataset(LocalDatasetFiles(root)).problems
    assert any(p.kind == "invalid_annotations" and "quality" in p.detail for p in problems)
