from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.unit.mushra.fixture import make_dataset


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None or shutil.which("ffmpeg") is None:
        pytest.skip("espeak-ng and ffmpeg are needed to make the fixture dataset")
    return make_dataset(tmp_path_factory.mktemp("mushra") / "dataset")
