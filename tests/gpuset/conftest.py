"""The GPU images' Python set (`make gpu-env`, `make test-gpu-set`): these tests run in
.venv-gpu, never in `make test` (the marker `gpuset` is deselected there). In that environment
a library that does not import fails the run rather than skipping it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

EPISODE_ENV = "DUBSET_GPUSET_EPISODE"  # a `dubset sample` episode (make test-gpu-set makes one)
REAL_PYANNOTE_ENV = "DUBSET_DIARIZATION_PYANNOTE_DIR"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--device", default="cpu", help="cpu, cuda or cuda:N (DUBSET_DEVICE)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/gpuset" in str(item.fspath):
            item.add_marker(pytest.mark.gpuset)


@pytest.fixture(scope="session")
def device(request: pytest.FixtureRequest) -> Iterator[str]:
    value = str(request.config.getoption("--device"))
    old = os.environ.get("DUBSET_DEVICE")
    os.environ["DUBSET_DEVICE"] = value
    yield value
    if old is None:
        os.environ.pop("DUBSET_DEVICE", None)
    else:
        os.environ["DUBSET_DEVICE"] = old


@pytest.fixture(scope="session")
def episode() -> Path:
    raw = os.environ.get(EPISODE_ENV, "")
    if not raw or not (Path(raw) / "truth.json").is_file():
        pytest.fail(f"{EPISODE_ENV} must name a `dubset sample` episode (make test-gpu-set)")
    return Path(raw)


@pytest.fixture(scope="session")
def tiny_pyannote(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.gpuset.pyannote_model import build

    return build(tmp_path_factory.mktemp("pyannote") / "speaker-diarization-tiny")
