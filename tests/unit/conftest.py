"""Fixtures of the unit tests: the root logger kept per test; the chart tests' (test_helm*.py)
Helm SDK, kubernetes-validate and chart."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "dubset"
NO_SDK = (
    "helm-python-sdk==0.2.2 and kubernetes-validate==1.37.0 are needed to lint and render the "
    "chart (no helm binary exists here); install requirements/lock.txt"
)


@pytest.fixture(autouse=True)
def _root_logger_restored() -> Iterator[None]:
    """A test that configures logging (a service's main) leaves a handler on its captured,
    then closed, stderr; later tests' log lines would go there as logging errors."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


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


@pytest.fixture(scope="session")
def dub_episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated 20 s episode of two characters (seed 7), shared by the dubbing tests
    (translation, tts dubbing, render, the dub commands). Read it; do not write into it."""
    from dubset_sample.generate import SampleOptions, generate

    out = tmp_path_factory.mktemp("dub-episode")
    generate(SampleOptions(out=out, seconds=20, characters=2, seed=7))
    return out
