"""The load test reuses the e2e fixtures (episodes, the cluster over `make up`'s servers)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import cluster, infra_env  # noqa: F401  (fixtures)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/load" in str(item.fspath):
            item.add_marker(pytest.mark.load)
