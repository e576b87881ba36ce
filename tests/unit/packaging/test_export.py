"""export: fragments in a store become annotations, manifest and archives, deterministically."""

from __future__ import annotations

import gzip
import io
import json
import random
import tarfile
from pathlib import Path
from typing import cast

import pytest

from dubset_common.errors import InvalidInputError
from dubset_common.keys import canonical_json
from dubset_common.objstore import LocalStore
from dubset_eval.results import parse_annotations
from dubset_packaging.core.splits import split_of
from dubset_packaging.exporter import ExportOptions, export_dataset

from .test_export_fixtures import add_episode, show

DS = "demo"


def catalogue(store: LocalStore) -> None:
    add_episode(store, DS, show("Alpha", "1"), "2")
    add_episode(store, DS, show("Alpha", "1"), "10")
    add_episode(store, DS, show("Alpha", "2"), "1", num_clips=2)
    add_episode(store, DS, show("Beta"), "1", num_clips=1, video=False)
    for i in range(6):
        add_episode(store, DS, show(f"Show {i}"), "1", num_clips=1, video=False)


def read(store: LocalStore, name: str) -> bytes:
    return store.get_bytes(f"datasets/{DS}/{name}")


def test_annotations_have_every_show_and_episode_in_order(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    catalogue(store)
    summary = export_dataset(store, ExportOptions(DS))
    ann = json.loads(read(store, "anim400k_annotations.json"))
    assert list(ann) == ["train", "val", "test"]
    shows = [(s["show"], s["season"], list(s["episodes"])) for part in ann.values() for s in part]
    alpha = [s for s in shows if s[0] == "Alpha"]
    assert alpha == [("Alpha", "1", ["2", "10"]), ("Alpha", "2", ["1"])]  # numeric order
    for split, part in ann.items():
        assert all(split_of(s["show"]) == split for s in part)
        names = [(s["show"], s["season"]) for s in part]
        assert names == sorted(names)
        first = part[0] if part else None
        if first:
            assert list(first)[:3] == ["show", "season", "link"] and list(first)[-1] == "episodes"
    assert summary.num_episodes == 10 and summary.num_shows == 9
    assert summary.num_clips == 3 + 3 + 2 + 1 + 6 == sum(summary.clips_per_split.values())
    # The project's own reader (dubset eval) reads it.
    assert len(parse_annotations(ann)) == 10


def test_manifest_lists_every_file_sorted_with_provenance(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    catalogue(store)
    export_dataset(store, ExportOptions(DS))
    lines = read(store, "manifest.jsonl").decode().splitlines()
    entries = [json.loads(line) for line in lines]
    paths = [e["path"] for e in entries]
    assert paths == sorted(paths)
    media = {
        k.split("/", 2)[2] for k in store.list(f"datasets/{DS}") if k.endswith((".mp3", ".mp4"))
    }
    assert set(paths) == media
    assert all(line.encode() == canonical_json(e) for line, e in zip(lines, entries, strict=True))
    assert entries[0]["provenance"] == {"asr.ja": "fake", "packaging": "test"}


def test_same_bytes_whatever_the_listing_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path)
    catalogue(store)
    export_dataset(store, ExportOptions(DS, archives=True, lhotse=True))
    names = [
        "anim400k_annotations.json",
        "manifest.jsonl",
        "anim400k_audio_clips.tar.gz",
        "anim400k_video_clips.tar.gz",
        "lhotse/cuts.jsonl.gz",
    ]
    first = {n: read(store, n) for n in names}
    original = LocalStore.list

    def shuffled(self: LocalStore, prefix: str) -> list[str]:
        keys = original(self, prefix)
        random.Random(7).shuffle(keys)
        return keys

    monkeypatch.setattr(LocalStore, "list", shuffled)
    export_dataset(store, ExportOptions(DS, archives=True, lhotse=True))
    assert {n: read(store, n) for n in names} == first


def test_archives_hold_exactly_the_media(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    catalogue(store)
    summary = export_dataset(store, ExportOptions(DS, archives=True))
    assert [a.key.rsplit("/", 1)[1] for a in summary.archives] == [
        "anim400k_audio_clips.tar.gz",
        "anim400k_video_clips.tar.gz",
    ]
    manifest = [json.loads(x) for x in read(store, "manifest.jsonl").splitlines()]
    for kind, folder in (("audio", "anim400k_audio_clips"), ("video", "anim400k_video_clips")):
        raw = read(store, f"{folder}.tar.gz")
        assert raw[4:8] == b"\0\0\0\0"  # gzip mtime 0
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
            members = tar.getmembers()
            want = [e for e in manifest if e["kind"] == kind]
            assert [m.name for m in members] == [e["path"] for e in want]
            assert {(m.mtime, m.uid, m.gid, m.mode) for m in members} == {(0, 0, 0, 0o644)}
            member = tar.extractfile(members[0])
            assert member is not None
            assert member.read() == read(store, want[0]["path"])


def test_archives_of_an_earlier_export_are_removed_when_not_asked(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    catalogue(store)
    export_dataset(store, ExportOptions(DS, archives=True))
    summary = export_dataset(store, ExportOptions(DS))
    assert not store.exists(f"datasets/{DS}/anim400k_audio_clips.tar.gz")
    assert any("stale" in w for w in summary.warnings)


def test_conflicting_show_metadata_uses_the_latest_episode(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    add_episode(store, DS, show("Gamma", score=7.0), "1")
    add_episode(store, DS, show("Gamma", score=8.5), "3")
    add_episode(store, DS, show("Gamma", score=7.0), "2")
    summary = export_dataset(store, ExportOptions(DS))
    ann = json.loads(read(store, "anim400k_annotations.json"))
    (gamma,) = [s for part in ann.values() for s in part]
    assert gamma["score"] == 8.5 and list(gamma["episodes"]) == ["1", "2", "3"]
    assert summary.warnings == (
        "show 'Gamma' season '1': show metadata of episodes 1, 2 differs from episode 3's, "
        "which is used",
    )


def test_duplicate_episode_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    add_episode(store, DS, show("Delta"), "1")
    add_episode(store, DS, show("Delta"), "1", episode_id="delta-again")
    with pytest.raises(InvalidInputError, match="comes from two fragments"):
        export_dataset(store, ExportOptions(DS))
    assert not store.exists(f"datasets/{DS}/anim400k_annotations.json")


class _RepackagingStore(LocalStore):
    """A store where episode "Eps" is packaged again, with other encoding settings (so other
    clip files), while an export runs: right before the export reads its fragment."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.repackaged: dict[str, object] = {}

    def get_file(self, key: str, path: Path) -> None:
        if key.endswith("/episodes/Eps-s1-e1.json") and not self.repackaged:
            self.repackaged = add_episode(self, DS, show("Eps"), "1", encoding="96k")
        super().get_file(key, path)


def test_an_episode_packaged_during_the_export_is_exported_not_refused(tmp_path: Path) -> None:
    store = _RepackagingStore(tmp_path)
    first = add_episode(store, DS, show("Eps"), "1", encoding="64k")
    summary = export_dataset(store, ExportOptions(DS))
    assert store.repackaged and summary.num_episodes == 1
    listed = [json.loads(line)["path"] for line in read(store, "manifest.jsonl").splitlines()]
    assert listed == [f["path"] for f in cast(list[dict[str, str]], store.repackaged["files"])]
    assert set(listed).isdisjoint(f["path"] for f in cast(list[dict[str, str]], first["files"]))


def test_missing_media_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    fragment = add_episode(store, DS, show("Eps"), "1")
    store.delete(f"datasets/{DS}/{fragment['files'][0]['path']}")
    with pytest.raises(InvalidInputError, match="not in the store"):
        export_dataset(store, ExportOptions(DS))
    assert not store.exists(f"datasets/{DS}/manifest.jsonl")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: f.update(format="other/1"), "format must be"),
        (lambda f: f["episode"]["clips"][0].update(jp_end_time="00:00:00.001"), "is before"),
        (lambda f: f["episode"]["clips"][0].update(en_clip="zz/not-a-uuid"), "is not a clip id"),
        (lambda f: f["show"].update(mood="grim"), "unknown fields: mood"),
        (lambda f: f["files"].pop(), "no video file"),
        (lambda f: f["files"][0].update(path="../../etc/passwd"), "is not anim400k"),
    ],
)
def test_malformed_fragment_is_named(tmp_path: Path, damage: object, message: str) -> None:
    store = LocalStore(tmp_path)
    fragment = add_episode(store, DS, show("Zeta"), "1")
    damage(fragment)  # type: ignore[operator]
    store.put_bytes(f"datasets/{DS}/episodes/Zeta-s1-e1.json", canonical_json(fragment))
    with pytest.raises(InvalidInputError, match=message) as err:
        export_dataset(store, ExportOptions(DS))
    assert "episodes/Zeta-s1-e1.json" in str(err.value)


def test_not_json_and_empty_dataset(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(InvalidInputError, match="no episode fragments"):
        export_dataset(store, ExportOptions(DS))
    store.put_bytes(f"datasets/{DS}/episodes/x.json", b"{nope")
    with pytest.raises(InvalidInputError, match=r"episodes/x.json is not valid JSON"):
        export_dataset(store, ExportOptions(DS))
    with pytest.raises(InvalidInputError, match="dataset name"):
        export_dataset(store, ExportOptions("../etc"))


def test_progress_reaches_one(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    catalogue(store)
    seen: list[tuple[float, str]] = []
    export_dataset(store, ExportOptions(DS, lhotse=True), hook=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert gzip.decompress(read(store, "lhotse/recordings.jsonl.gz")).count(b"\n") == 30
