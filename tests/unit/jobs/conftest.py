"""The store and bus every orchestrator test runs over."""

from __future__ import annotations

from pathlib import Path

import pytest

from dubset_common.bus import InProcBus
from dubset_common.objstore import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.fixture
def bus() -> InProcBus:
    return InProcBus(partitions=2)
