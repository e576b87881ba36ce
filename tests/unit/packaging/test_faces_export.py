"""export/verify and the faces stage's files: a current faces fragment's clips in the manifest,
anivid_annotations.json and anim400k_faces.json written; a stale one skipped; a face file no
manifest line lists is found by verify."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from dubset_common.keys import canonical_json
from dubset_common.objstore import LocalStore
from dubset_packaging.datasetfiles import LocalDatasetFiles
from dubset_packaging.exporter import ExportOptions, export_dataset
from dubset_packaging.verifier import verify_dataset

from .test_export_fixtures import add_episode, media, show

DS = "demo"
Fragment = dict[str, object]


def add_faces(store: LocalStore, fragment: Fragment, sha256: str | None = None) -> Fragment:
    """The faces stage's output: one AniVid clip, one AV clip of the first JA clip, then the
    faces fragment naming the episode fragment's sha256."""
    episode_id = str(fragment["episode_id"])
    root = f"datasets/{DS}"
    raw = store.get_bytes(f"{root}/episodes/{episode_id}.json")
    jp_clip = fragment["episode"]["clips"][0]["jp_clip"]  # type: ignore[index]
    data, duration = media("video")
    files = []
    for kind, clip, path in (
        ("anivid", "s0001-t0002-f000024", f"anivid_clips/{episode_id}/s0001-t0002-f000024.mp4"),
        ("av", jp_clip, f"anim400k_av_clips/{jp_clip}.mp4"),
    ):
        store.put_bytes(f"{root}/{path}", data)
        files.append({"path": path, "sha256": hashlib.sha256(data).hexdigest(),
                      "bytes": len(data), "duration_ms": duration, "codec": "h264", "kind": kind,
                      "language": "ja+en" if kind == "av" else "", "clip": clip,
                      "episode_id": episode_id})  # fmt: skip
    faces: Fragment = {
        "format": "dubset-dataset-faces/1",
        "episode_id": episode_id,
        "episode_sha256": sha256 or hashlib.sha256(raw).hexdigest(),
        "backend": "scenedetect-adaptive+animeface+ffmpeg-5.1",
        "files": sorted(files, key=lambda f: str(f["path"])),
        "anivid": [
            {
                "clip": "s0001-t0002-f000024",
                "path": files[0]["path"],
                "motion": 3.5,
                "boxes": [[1, 2, 3, 4]],
            }
        ],
        "speaking": {jp_clip: {"speaking_track": 2, "mouth_open": [[0, 120]]}},
        "characters": {"SPEAKER_00": [2]},
        "provenance": {"faces": "scenedetect-adaptive+animeface+ffmpeg-5.1"},
    }
    store.put_bytes(f"{root}/faces/{episode_id}.json", canonical_json(faces))
    return faces


def test_current_faces_are_exported_and_verified(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    fragment = add_episode(store, DS, show("Alpha"), "1", num_clips=2)
    export_dataset(store, ExportOptions(DS))
    before = store.get_bytes(f"datasets/{DS}/anim400k_annotations.json")
    add_faces(store, fragment)
    summary = export_dataset(store, ExportOptions(DS))
    assert summary.warnings == ()
    root = tmp_path / "datasets" / DS
    assert (root / "anim400k_annotations.json").read_bytes() == before  # Anim-400K unchanged
    anivid = json.loads((root / "anivid_annotations.json").read_text())
    (clip,) = anivid["clips"]
    assert (clip["show"], clip["episode_number"], clip["motion"]) == ("Alpha", "1", 3.5)
    sidecar = json.loads((root / "anim400k_faces.json").read_text())
    jp_clip = fragment["episode"]["clips"][0]["jp_clip"]  # type: ignore[index]
    assert sidecar["clips"][jp_clip]["speaking_track"] == 2
    kinds = [json.loads(ln)["kind"] for ln in (root / "manifest.jsonl").read_text().splitlines()]
    assert kinds.count("anivid") == 1 and kinds.count("av") == 1
    report = verify_dataset(LocalDatasetFiles(root))
    assert report.ok, report.problems
    (root / "anivid_clips" / "stray.mp4").write_bytes(b"x")
    problems = verify_dataset(LocalDatasetFiles(root)).problems
    assert {(p.kind, p.path) for p in problems} == {
        ("unreferenced", "anivid_clips/stray.mp4"),
        ("not_in_manifest", "anivid_clips/stray.mp4"),
    }


def test_stale_faces_are_skipped_and_their_documents_removed(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    fragment = add_episode(store, DS, show("Alpha"), "1")
    add_faces(store, fragment)
    export_dataset(store, ExportOptions(DS))
    assert store.exists(f"datasets/{DS}/anim400k_faces.json")
    add_faces(store, fragment, sha256="0" * 64)
    summary = export_dataset(store, ExportOptions(DS))
    assert any("faces/Alpha-s1-e1.json" in w and "the faces stage" in w for w in summary.warnings)
    assert not store.exists(f"datasets/{DS}/anim400k_faces.json")
    manifest = store.get_bytes(f"datasets/{DS}/manifest.jsonl").decode()
    assert "anivid" not in manifest
