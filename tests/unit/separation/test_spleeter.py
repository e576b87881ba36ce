"""The Spleeter backend's real inference path, on a tiny random 2-stem model built here."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset_separation.core.audio import AudioSource
from dubset_separation.core.separate import separate
from dubset_separation.spleeter_backend import DEFAULT_PYTHON, SpleeterSeparator
from tests.unit.separation.synth import pair

BUILDER = Path(__file__).with_name("spleeter_tiny_model.py")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not DEFAULT_PYTHON.is_file(),
        reason=f"no Spleeter environment at {DEFAULT_PYTHON}: run tools/setup_spleeter.sh",
    ),
]


def test_spleeter_runs_a_model_directory_and_splits_exactly(tmp_path: Path) -> None:
    models = tmp_path / "models"
    subprocess.run(
        [str(DEFAULT_PYTHON), str(BUILDER), str(models)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert (models / "2stems" / "checkpoint").is_file()
    pair(tmp_path, seconds=4.0)
    separator = SpleeterSeparator(DEFAULT_PYTHON, models)
    out = tmp_path / "out"
    out.mkdir()
    with AudioSource(tmp_path / "en.wav", "en") as src:
        result = separate({"en": src}, out, backend="spleeter", external=separator)
    assert result.backend == "spleeter" and result.model == "spleeter:2stems"
    assert len(str(result.info["model_info"]["model_sha256"])) == 64  # type: ignore[index]
    mix, _ = sf.read(tmp_path / "en.wav", dtype="int16")
    dia, _ = sf.read(out / "en_dialogue.wav", dtype="int16")
    back, rate = sf.read(out / "en_backing.wav", dtype="int16")
    assert rate == 16000 and len(back) == len(mix) == len(dia)
    assert np.array_equal(dia.astype(np.int32) + back, mix)
    assert np.any(back) and np.any(dia)
