"""verify: a clean export passes; every kind of damage is reported with its path."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from dubset_common.errors import InvalidInputError
from dubset_common.objstore import LocalStore
from dubset_packaging.core.verify import KINDS, Problem, check_annotations
from dubset_packaging.datasetfiles import LocalDatasetFiles, StoreDatasetFiles, parse_s3_location
from dubset_packaging.exporter import ExportOptions, export_dataset
from dubset_packaging.verifier import verify_dataset

from .test_export_fixtures import add_episode, show

ANN = "anim400k_annotations.json"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("export")
    store = LocalStore(tmp)
    for i in range(8):
        add_episode(store, "ds", show(f"Show {i}"), "1", num_clips=2, video=i % 2 == 0)
    export_dataset(store, ExportOptions("ds"))
    return tmp / "datasets" / "ds"


@pytest.fixture
def copy(exported: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ds"
    shutil.copytree(exported, target)
    shutil.rmtree(target / "episodes")  # a published dataset without the fragments
    return target


def manifest(root: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]


def edit_annotations(
    root: Path, change: Callable[[dict[str, list[dict[str, object]]]], None]
) -> None:
    value = json.loads((root / ANN).read_text())
    change(value)
    (root / ANN).write_text(json.dumps(value))


def first_show(value: dict[str, list[dict[str, object]]]) -> dict[str, object]:
    return next(s for part in value.values() for s in part)


def first_clip(value: dict[str, list[dict[str, object]]]) -> dict[str, object]:
    episodes = first_show(value)["episodes"]
    assert isinstance(episodes, dict)
    return next(iter(episodes.values()))["clips"][0]  # type: ignore[no-any-return]


def kinds(root: Path, skip: bool = False) -> set[tuple[str, str]]:
    report = verify_dataset(LocalDatasetFiles(root), skip_checksums=skip)
    assert report.ok is (not report.problems)
    return {(p.kind, p.path) for p in report.problems}


def test_clean_export_verifies(copy: Path, exported: Path) -> None:
    report = verify_dataset(LocalDatasetFiles(copy))
    assert report.ok and report.problems == ()
    assert report.files_checked == len(manifest(copy)) == 8 * 2 * 2 + 4 * 2 * 2
    store_files = StoreDatasetFiles(LocalStore(exported.parent.parent), "datasets/ds")
    # Through the store, with the fragments under episodes/ (not media, so not reported).
    assert verify_dataset(store_files).ok


def test_deleted_clip_is_missing(copy: Path) -> None:
    path = str(manifest(copy)[0]["path"])
    (copy / path).unlink()
    assert kinds(copy) == {("missing", path)}


def test_flipped_byte_is_a_checksum_mismatch_unless_skipped(copy: Path) -> None:
    path = str(manifest(copy)[3]["path"])
    data = bytearray((copy / path).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / path).write_bytes(bytes(data))
    assert kinds(copy) == {("checksum_mismatch", path)}
    assert kinds(copy, skip=True) == set()


def test_truncated_file_is_a_size_mismatch(copy: Path) -> None:
    path = str(manifest(copy)[-1]["path"])
    data = (copy / path).read_bytes()
    (copy / path).write_bytes(data[:-10])
    assert kinds(copy, skip=True) == {("size_mismatch", path)}


def test_stray_media_file_is_unreferenced_and_unlisted(copy: Path) -> None:
    stray = "anim400k_audio_clips/ab/abcdef01-0000-4000-8000-000000000000.mp3"
    (copy / stray).parent.mkdir(parents=True, exist_ok=True)
    (copy / stray).write_bytes(b"stray")
    assert kinds(copy) == {("unreferenced", stray), ("not_in_manifest", stray)}


def test_file_dropped_from_the_manifest_is_not_in_manifest(copy: Path) -> None:
    lines = (copy / "manifest.jsonl").read_text().splitlines(keepends=True)
    path = json.loads(lines[2])["path"]
    (copy / "manifest.jsonl").write_text("".join(lines[:2] + lines[3:]))
    assert kinds(copy) == {("not_in_manifest", path)}


def test_broken_time_is_invalid(copy: Path) -> None:
    edit_annotations(copy, lambda v: first_clip(v).update(en_end_time="00:00:61.000"))
    report = verify_dataset(LocalDatasetFiles(copy))
    (problem,) = report.problems
    assert problem.kind == "invalid_annotations" and "HH:MM:SS.mmm" in problem.detail
    assert "clips[0]" in problem.detail


def test_end_before_start_is_invalid(copy: Path) -> None:
    edit_annotations(copy, lambda v: first_clip(v).update(jp_end_time="00:00:00.000"))
    (problem,) = verify_dataset(LocalDatasetFiles(copy)).problems
    assert "jp_end_time 00:00:00.000 is before jp_start_time" in problem.detail


def test_show_in_two_splits_is_invalid(copy: Path) -> None:
    def leak(value: dict[str, list[dict[str, object]]]) -> None:
        other = "val" if value["train"] else "train"
        clone = dict(first_show(value), season="2", episodes={})
        value[other].append(clone)

    edit_annotations(copy, leak)
    (problem,) = verify_dataset(LocalDatasetFiles(copy)).problems
    assert problem.kind == "invalid_annotations" and "is in both" in problem.detail


def test_dropped_show_field_is_invalid(copy: Path) -> None:
    edit_annotations(copy, lambda v: first_show(v).pop("premiered"))
    (problem,) = verify_dataset(LocalDatasetFiles(copy)).problems
    assert problem == Problem(
        "invalid_annotations", ANN, f"{problem.detail.split(':')[0]}: field 'premiered' is missing"
    )


def test_bad_id_folder_and_missing_video(copy: Path) -> None:
    video = next(e for e in manifest(copy) if e["kind"] == "video")
    (copy / str(video["path"])).unlink()

    def rename(value: dict[str, list[dict[str, object]]]) -> None:
        clip = first_clip(value)
        clip["jp_clip"] = "zz/" + str(clip["jp_clip"]).split("/")[1]

    edit_annotations(copy, rename)
    found = kinds(copy)
    assert ("missing", video["path"]) in found
    assert ("invalid_annotations", ANN) in found
    assert {k for k, _ in found} <= set(KINDS)


def test_missing_annotations_and_garbled_manifest(copy: Path) -> None:
    (copy / ANN).unlink()
    with (copy / "manifest.jsonl").open("a") as fh:
        fh.write('{"path": "x"}\n')
    found = kinds(copy)
    assert ("missing", ANN) in found and ("invalid_annotations", "manifest.jsonl") in found
    assert {k for k, p in found if p.endswith((".mp3", ".mp4"))} == {"unreferenced"}


def test_schema_checker_on_values() -> None:
    assert check_annotations([]).problems[0].detail.startswith("annotations")
    out = check_annotations({"train": [{"show": 3}], "val": [], "test": [], "extra": []})
    details = " | ".join(p.detail for p in out.problems)
    assert "unknown split 'extra'" in details and "train[0].show: must be a str" in details


def test_s3_location() -> None:
    assert parse_s3_location("s3://b/datasets/x/") == ("b", "datasets/x")
    with pytest.raises(InvalidInputError, match="s3://bucket/key-prefix"):
        parse_s3_location("s3://b")
