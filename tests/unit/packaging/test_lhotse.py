"""lhotse manifests of an export load, validate and play in the real lhotse library."""

from __future__ import annotations

from pathlib import Path

import pytest

from dubset_common.objstore import LocalStore
from dubset_packaging.core.export import ExportError
from dubset_packaging.core.lhotse import AudioInfo, mp3_audio_info, num_samples
from dubset_packaging.exporter import ExportOptions, export_dataset

from .test_export_fixtures import add_episode, media, show

lhotse = pytest.importorskip("lhotse")


@pytest.mark.parametrize("stated_rate", [True, False])
def test_round_trip_through_lhotse(tmp_path: Path, stated_rate: bool) -> None:
    store = LocalStore(tmp_path)
    add_episode(store, "ds", show("Alpha"), "1", num_clips=2, sample_rate=stated_rate)
    add_episode(store, "ds", show("Omega", "2"), "5", num_clips=1, video=False)
    export_dataset(store, ExportOptions("ds", lhotse=True))
    root = tmp_path / "datasets" / "ds"
    recordings = lhotse.load_manifest(root / "lhotse/recordings.jsonl.gz")
    supervisions = lhotse.load_manifest(root / "lhotse/supervisions.jsonl.gz")
    cuts = lhotse.CutSet.from_file(root / "lhotse/cuts.jsonl.gz").with_recording_path_prefix(root)
    assert len(recordings) == len(supervisions) == len(cuts) == 6
    lhotse.qa.validate_recordings_and_supervisions(
        recordings.with_path_prefix(root), supervisions, read_data=True
    )
    lhotse.qa.validate(cuts, read_data=True)
    cut = next(iter(cuts))
    audio = cut.load_audio()
    assert audio.shape == (1, cut.num_samples) and abs(audio).max() > 0.1
    sup = cut.supervisions[0]
    assert sup.language in ("Japanese", "English") and sup.speaker == "SPEAKER_00"
    assert sup.custom["show"] in ("Alpha", "Omega") and sup.custom["split"] == "train"
    assert {s.text for s in supervisions} >= {"hello 0", "こんにちは 0"}


def test_mp3_header_probe() -> None:
    data, _ = media("audio")
    assert mp3_audio_info(data) == AudioInfo(44100, 1)
    with pytest.raises(ExportError, match="no MPEG audio frame"):
        mp3_audio_info(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 100)


def test_num_samples_rounds_like_lhotse() -> None:
    for ms in (1, 999, 1001, 6543, 123_457):
        for rate in (44100, 48000, 22050, 16000):
            assert num_samples(ms, rate) == lhotse.utils.compute_num_samples(ms / 1000, rate)
