"""The pyannote adapter without pyannote.audio: config resolution and the loud failure."""

from __future__ import annotations

import hashlib
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from dubset_diarization.core.model import BackendUnavailableError, SpeakerBounds, Turn
from dubset_diarization.handler import Backends
from dubset_diarization.pyannote_backend import (
    NOT_INSTALLED,
    PyannoteDiarizer,
    checksums,
    load_config,
    turns_of,
)

CONFIG = """\
version: 3.1.0
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    clustering: AgglomerativeClustering
    plda: $model/plda
    embedding: {embedding}
    embedding_batch_size: 32
    segmentation: {segmentation}
params:
  clustering: {{method: centroid, min_cluster_size: 12, threshold: 0.7045654963945799}}
  segmentation: {{min_duration_off: 0.0}}
"""

PYANNOTE_MISSING = importlib.util.find_spec("pyannote") is None


def model_dir(
    tmp: Path, segmentation: str = "seg/pytorch_model.bin", embedding: str = "$model/emb"
) -> Path:
    (tmp / "seg").mkdir(parents=True)
    (tmp / "seg/pytorch_model.bin").write_bytes(b"segmentation weights")
    (tmp / "emb").mkdir()
    (tmp / "emb/pytorch_model.bin").write_bytes(b"embedding weights")
    (tmp / "plda").mkdir()
    (tmp / "plda/plda.npz").write_bytes(b"plda")
    (tmp / "config.yaml").write_text(CONFIG.format(segmentation=segmentation, embedding=embedding))
    return tmp


def test_config_references_resolve_inside_the_model_dir(tmp_path: Path) -> None:
    resolved = load_config(model_dir(tmp_path))
    params = resolved.config["pipeline"]["params"]
    # local checkpoints as mappings: pyannote routes a string by its words ("wespeaker", ...)
    assert params["segmentation"] == {
        "checkpoint": str((tmp_path / "seg/pytorch_model.bin").resolve())
    }
    assert params["embedding"] == {"checkpoint": str((tmp_path / "emb").resolve())}
    assert params["plda"] == {"checkpoint": str((tmp_path / "plda").resolve())}
    assert resolved.config["params"]["clustering"]["method"] == "centroid"
    sums = checksums(resolved.files)
    assert sums["segmentation"] == hashlib.sha256(b"segmentation weights").hexdigest()
    assert sums["embedding/pytorch_model.bin"] == hashlib.sha256(b"embedding weights").hexdigest()
    assert set(sums) == {
        "config.yaml",
        "segmentation",
        "embedding/pytorch_model.bin",
        "plda/plda.npz",
    }


def test_hub_ids_are_refused(tmp_path: Path) -> None:
    model_dir(tmp_path, segmentation="pyannote/segmentation-3.0")
    with pytest.raises(BackendUnavailableError, match="hub ids are not loaded"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    "reference", ["../outside.bin", "/etc/hostname", "$model/../outside.bin", "link/x.bin"]
)
def test_files_outside_the_model_dir_are_refused(tmp_path: Path, reference: str) -> None:
    (tmp_path / "outside.bin").write_bytes(b"not ours")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere/x.bin").write_bytes(b"not ours")
    root = model_dir(tmp_path / "m", segmentation=reference)
    (root / "link").symlink_to(tmp_path / "elsewhere")  # a link inside, pointing out
    with pytest.raises(BackendUnavailableError, match="is outside"):
        load_config(root)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "no pyannote pipeline config"),
        ("a: [", "not valid YAML"),
        ("params: {}", "has no pipeline.name"),
        ("pipeline: {name: x, params: {}}", "plda is missing"),
    ],
)
def test_unusable_configs(tmp_path: Path, text: str | None, message: str) -> None:
    if text is not None:
        (tmp_path / "config.yaml").write_text(text)
    with pytest.raises(BackendUnavailableError, match=message):
        load_config(tmp_path)


@pytest.mark.skipif(not PYANNOTE_MISSING, reason="pyannote.audio is installed here")
def test_missing_pyannote_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError) as err:
        PyannoteDiarizer(model_dir(tmp_path / "m"), tmp_path / "work")
    assert str(err.value).startswith(NOT_INSTALLED)


@pytest.mark.skipif(not PYANNOTE_MISSING, reason="pyannote.audio is installed here")
def test_backends_never_fall_back_to_embedded(tmp_path: Path) -> None:
    import soundfile as sf

    from dubset_common.errors import ConfigError

    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(16_000, np.float32), 16_000)
    with pytest.raises(ConfigError, match=re.escape(NOT_INSTALLED)):
        Backends().run(
            wav,
            "pyannote",
            SpeakerBounds(),
            model_dir=model_dir(tmp_path / "m"),
            workdir=tmp_path / "w",
        )


@dataclass
class _Segment:
    start: float
    end: float


class _Annotation:
    """The one method of pyannote.core.Annotation the adapter uses."""

    def itertracks(self, yield_label: bool = False) -> list[tuple[_Segment, str, str]]:
        assert yield_label
        return [(_Segment(0.5004, 1.25), "A", "spk1"), (_Segment(1.0, 2.0), "B", "spk0")]


def test_annotation_to_turns_keeps_overlap() -> None:
    assert turns_of(_Annotation()) == [Turn(500, 1250, "spk1"), Turn(1000, 2000, "spk0")]
