"""export/verify and the tts stage's baseline clips: current ones published, stale ones not."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from dubset_common.errors import InvalidInputError
from dubset_common.keys import canonical_json
from dubset_common.objstore import LocalStore
from dubset_packaging.core.verify import parse_manifest_line
from dubset_packaging.datasetfiles import LocalDatasetFiles
from dubset_packaging.exporter import ExportOptions, export_dataset
from dubset_packaging.verifier import verify_dataset

from .test_export_fixtures import add_episode, media, show

DS = "demo"
Fragment = dict[str, object]


def add_baseline(
    store: LocalStore, fragment: Fragment, *, sha256: str | None = None, clips: int | None = None
) -> Fragment:
    """The tts stage's output for an episode: one mp3 per EN clip (all of them unless `clips`
    says how many), then datasets/<ds>/baseline/<episode_id>.json naming the fragment's sha."""
    episode_id = str(fragment["episode_id"])
    root = f"datasets/{DS}"
    raw = store.get_bytes(f"{root}/episodes/{episode_id}.json")
    episode = fragment["episode"]
    assert isinstance(episode, dict)
    data, duration = media("audio")
    files = []
    for i, clip in enumerate(episode["clips"][:clips]):
        path = f"anim400k_baseline_clips/{clip['en_clip']}.mp3"
        store.put_bytes(f"{root}/{path}", data)
        files.append(
            {
                "path": path,
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
                "duration_ms": duration,
                "codec": "mp3",
                "kind": "baseline",
                "language": "en",
                "clip": clip["en_clip"],
                "episode_id": episode_id,
                "sample_rate": 44100,
                "channels": 1,
                "text": clip["en_text"],
                "voice": "piper:joe+f0=182Hz",
                "fits": i != 1,
                "scores": {"dnsmos": 3.12, "duration_ratio": 1.0, "speaker_similarity": 0.64},
            }
        )
    baseline: Fragment = {
        "format": "dubset-dataset-baseline/1",
        "episode_id": episode_id,
        "episode_sha256": sha256 or hashlib.sha256(raw).hexdigest(),
        "backend": "piper-tts-1.3.0+joe",
        "translation_backend": "reference",
        "voices": {"SPEAKER_00": {"voice": "piper:joe+f0=182Hz", "similarity": 0.71}},
        "files": sorted(files, key=lambda f: str(f["path"])),
        "mean_scores": {"dnsmos": 3.12},
        "unfit_clips": [],
        "skipped": [],
        "provenance": {"tts": "piper-tts-1.3.0+joe", "translation": "reference"},
    }
    put_baseline(store, baseline)
    return baseline


def put_baseline(store: LocalStore, baseline: Fragment) -> None:
    key = f"datasets/{DS}/baseline/{baseline['episode_id']}.json"
    store.put_bytes(key, canonical_json(baseline))


def read(store: LocalStore, name: str) -> bytes:
    return store.get_bytes(f"datasets/{DS}/{name}")


def lines(store: LocalStore) -> list[dict[str, object]]:
    return [json.loads(line) for line in read(store, "manifest.jsonl").splitlines()]


def test_current_baseline_clips_become_manifest_lines(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    fragment = add_episode(store, DS, show("Alpha"), "1", num_clips=3)
    add_episode(store, DS, show("Beta"), "1", num_clips=2, video=False)
    export_dataset(store, ExportOptions(DS))
    plain = {n: read(store, n) for n in ("manifest.jsonl", "anim400k_annotations.json")}
    add_baseline(store, fragment)
    summary = export_dataset(store, ExportOptions(DS))
    assert summary.num_baseline_clips == 3 and summary.warnings == ()
    assert read(store, "anim400k_annotations.json") == plain["anim400k_annotations.json"]
    entries = lines(store)
    paths = [str(e["path"]) for e in entries]
    assert paths == sorted(paths)  # baseline lines sit between the audio and video ones
    baseline = [e for e in entries if e["kind"] == "baseline"]
    en_clips = [c["en_clip"] for c in fragment["episode"]["clips"]]  # type: ignore[index]
    assert sorted(e["clip"] for e in baseline) == sorted(en_clips)
    first = baseline[0]
    assert "text" not in first
    assert first["language"] == "en" and first["codec"] == "mp3"
    assert first["voice"] == "piper:joe+f0=182Hz" and isinstance(first["fits"], bool)
    assert first["scores"] == {"dnsmos": 3.12, "duration_ratio": 1.0, "speaker_similarity": 0.64}
    assert first["provenance"] == {
        "asr.ja": "fake",
        "packaging": "test",
        "translation": "reference",
        "tts": "piper-tts-1.3.0+joe",
    }
    others = b"".join(
        canonical_json(e) + b"\n" for e in entries if e["kind"] != "baseline"
    )  # everything else exactly as without the baseline
    assert others == plain["manifest.jsonl"]


def test_stale_baseline_is_skipped_with_a_warning(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    fragment = add_episode(store, DS, show("Alpha"), "1")
    export_dataset(store, ExportOptions(DS))
    before = read(store, "manifest.jsonl")
    add_baseline(store, fragment, sha256="0" * 64)
    summary = export_dataset(store, ExportOptions(DS))
    assert read(store, "manifest.jsonl") == before  # byte-identical: nothing of it exported
    assert summary.num_baseline_clips == 0
    (warning,) = summary.warnings
    assert "baseline/Alpha-s1-e1.json" in warning and "run the tts stage" in warning


def test_a_repackaged_episode_makes_its_old_baseline_stale_not_an_error(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    old = add_episode(store, DS, show("Alpha"), "1", encoding="64k")
    add_baseline(store, old)  # made from the 64k fragment: its clips are not the 96k ones
    add_episode(store, DS, show("Alpha"), "1", encoding="96k")
    summary = export_dataset(store, ExportOptions(DS))
    assert summary.num_baseline_clips == 0 and len(summary.warnings) == 1


def test_missing_baseline_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    baseline = add_baseline(store, add_episode(store, DS, show("Alpha"), "1"))
    store.delete(f"datasets/{DS}/{baseline['files'][1]['path']}")  # type: ignore[index]
    with pytest.raises(InvalidInputError, match="not in the store") as err:
        export_dataset(store, ExportOptions(DS))
    assert "baseline/Alpha-s1-e1.json" in str(err.value) and "tts" in str(err.value)
    assert not store.exists(f"datasets/{DS}/manifest.jsonl")


def _jp_clip(b: Fragment, f: Fragment) -> None:
    clip = f["episode"]["clips"][0]["jp_clip"]  # type: ignore[index]
    b["files"][0].update(clip=clip, path=f"anim400k_baseline_clips/{clip}.mp3")  # type: ignore[index]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b, f: b["files"][0].update(kind="audio"), r"files\[0\]\.kind must be baseline"),
        (lambda b, f: b["files"][0].update(fits="yes"), r"files\[0\]\.fits must be true or"),
        (lambda b, f: b["files"][0]["scores"].update(dnsmos="3"), r"scores\.dnsmos must be a"),
        (lambda b, f: b["files"][0].update(path="x.mp3"), r"files\[0\]\.path 'x.mp3' is not"),
        (lambda b, f: b["files"].append(dict(b["files"][0])), "is listed twice"),
        (lambda b, f: b.pop("backend"), "backend must be a non-empty string"),
        (lambda b, f: b.update(format="other/1"), "format must be dubset-dataset-baseline/1"),
        (lambda b, f: b.update(episode_sha256="abc"), "episode_sha256 must be 64"),
        (_jp_clip, "is not an en_clip of episode Alpha-s1-e1"),
    ],
)
def test_malformed_baseline_is_refused_naming_fragment_and_field(
    tmp_path: Path, damage: Callable[[Fragment, Fragment], None], message: str
) -> None:
    store = LocalStore(tmp_path)
    fragment = add_episode(store, DS, show("Alpha"), "1")
    baseline = add_baseline(store, fragment)
    damage(baseline, fragment)
    put_baseline(store, baseline)
    with pytest.raises(InvalidInputError, match=message) as err:
        export_dataset(store, ExportOptions(DS))
    assert f"datasets/{DS}/baseline/Alpha-s1-e1.json" in str(err.value)
    assert not store.exists(f"datasets/{DS}/manifest.jsonl")


def test_baseline_that_is_not_json_or_of_no_episode(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    add_episode(store, DS, show("Alpha"), "1")
    store.put_bytes(f"datasets/{DS}/baseline/Gone-s1-e1.json", b"{}")
    summary = export_dataset(store, ExportOptions(DS))
    assert summary.warnings == (
        f"datasets/{DS}/baseline/Gone-s1-e1.json has no episode fragment under episodes/; "
        "its baseline clips are not exported",
    )
    store.put_bytes(f"datasets/{DS}/baseline/Alpha-s1-e1.json", b"{nope")
    with pytest.raises(InvalidInputError, match=r"Alpha-s1-e1\.json is not valid JSON"):
        export_dataset(store, ExportOptions(DS))


def test_archives_and_lhotse_leave_baselines_out(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    add_baseline(store, add_episode(store, DS, show("Alpha"), "1", video=False))
    summary = export_dataset(store, ExportOptions(DS, archives=True, lhotse=True))
    assert summary.num_baseline_clips == 3
    with tarfile.open(fileobj=io.BytesIO(read(store, "anim400k_audio_clips.tar.gz"))) as tar:
        names = tar.getnames()
    assert len(names) == 6 and all(n.startswith("anim400k_audio_clips/") for n in names)
    assert b"baseline" not in read(store, "lhotse/recordings.jsonl.gz")
    assert [a.key.rsplit("/", 1)[1] for a in summary.archives] == ["anim400k_audio_clips.tar.gz"]


@pytest.fixture
def published(tmp_path: Path) -> Path:
    store = LocalStore(tmp_path / "store")
    for i in range(2):
        add_baseline(store, add_episode(store, DS, show(f"Show {i}"), "1", video=i == 0))
    export_dataset(store, ExportOptions(DS))
    root = tmp_path / "published"
    shutil.copytree(tmp_path / "store" / "datasets" / DS, root)
    shutil.rmtree(root / "episodes")
    shutil.rmtree(root / "baseline")
    return root


def problems(root: Path) -> set[tuple[str, str]]:
    return {(p.kind, p.path) for p in verify_dataset(LocalDatasetFiles(root)).problems}


def baseline_paths(root: Path) -> list[str]:
    entries = [json.loads(x) for x in (root / "manifest.jsonl").read_text().splitlines()]
    return [e["path"] for e in entries if e["kind"] == "baseline"]


def test_verify_checks_baseline_lines_like_any_other(published: Path) -> None:
    report = verify_dataset(LocalDatasetFiles(published))
    assert report.ok and report.files_checked == 2 * 3 * 2 + 3 * 2 + 2 * 3
    path = baseline_paths(published)[0]
    data = bytearray((published / path).read_bytes())
    data[-100] ^= 0xFF
    (published / path).write_bytes(bytes(data))
    gone = baseline_paths(published)[1]
    (published / gone).unlink()
    assert problems(published) == {("checksum_mismatch", path), ("missing", gone)}


def test_verify_flags_an_unreferenced_baseline_mp3(published: Path) -> None:
    stray = "anim400k_baseline_clips/ab/abcdef01-0000-4000-8000-000000000000.mp3"
    (published / stray).parent.mkdir(parents=True, exist_ok=True)
    (published / stray).write_bytes(b"stray")
    assert problems(published) == {("unreferenced", stray), ("not_in_manifest", stray)}


def test_verify_flags_a_baseline_of_a_clip_no_annotation_has(published: Path) -> None:
    ann = json.loads((published / "anim400k_annotations.json").read_text())
    show_obj = next(s for part in ann.values() for s in part)
    episode = next(iter(show_obj["episodes"].values()))
    dropped = episode["clips"].pop(0)
    (published / "anim400k_annotations.json").write_text(json.dumps(ann))
    found = problems(published)
    assert ("unreferenced", f"anim400k_baseline_clips/{dropped['en_clip']}.mp3") in found


def test_a_baseline_manifest_line_is_parsed_and_a_bad_one_reported() -> None:
    line = {
        "path": "anim400k_baseline_clips/db/db019ebb-088c-4850-b791-de097303264d.mp3",
        "sha256": "a" * 64,
        "bytes": 10,
        "duration_ms": 1000,
        "codec": "mp3",
        "kind": "baseline",
        "language": "en",
        "clip": "db/db019ebb-088c-4850-b791-de097303264d",
        "episode_id": "e1",
        "fits": False,
        "scores": {"dnsmos": 2.5},
        "provenance": {"tts": "piper"},
    }
    entry = parse_manifest_line(canonical_json(line), 1)
    assert isinstance(entry, dict) and entry["fits"] is False
    bad = parse_manifest_line(canonical_json({**line, "language": "ja"}), 7)
    assert not isinstance(bad, dict)
    assert bad.kind == "invalid_annotations" and "line 7" in bad.detail
    assert "language must be en" in bad.detail
