"""Fixtures of the chart tests (test_helm*.py): the Helm SDK, kubernetes-validate, the chart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "dubset"
NO_SDK = (
    "helm-python-sdk==0.2.2 and kubernetes-validate==1.37.0 are needed to lint and render the "
    "chart (no helm binary exists here); install requirements/lock.txt"
)


@pytest.fixture(scope="module")
def helm() -> Any:
    return pytest.importorskip("helm_python", reason=NO_SDK)


@pytest.fixture(scope="module")
def kubeval() -> Any:
    return pytest.importorskip("kubernetes_validate", reason=NO_SDK)


@pytest.fixture(scope="module")
def chart(helm: Any) -> Iterator[Any]:
    with helm.Chart.load(CHART) as loaded:
        yield loaded
