"""`make helm-lint` (tools/helm_check.py) passes on the chart's values files and fails loudly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "helm_check.py"
pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
sys.path.insert(0, str(ROOT / "tools"))

import helm_check  # noqa: E402

VALUES_FILES = sorted((ROOT / "deploy/helm/dubset/ci").glob("*.yaml"))


def run(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_values_files_cover_what_the_issue_names() -> None:
    names = {p.stem.removesuffix("-values") for p in VALUES_FILES}
    assert {"minimal", "gpu-pools", "autoscaling", "external-secrets"} <= names


def test_every_values_file_lints_renders_and_validates() -> None:
    done = run()
    assert done.returncode == 0, done.stdout + done.stderr
    for path in VALUES_FILES:
        assert f"{path.name}: ok" in done.stdout
    assert "helm lint --strict: ok" in done.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("asr:\n  worker:\n    gpus: -1\n", "/asr/worker/gpus"),
        ("global:\n  kafka:\n    partitions: 1\n", "partitions is 1"),
        (
            "monitoring:\n  prometheusRule:\n    enabled: true\n    lagFor: soon\n",
            "/monitoring/prometheusRule/lagFor",
        ),
    ],
    ids=["negative gpus", "too few partitions", "bad duration"],
)
def test_a_bad_values_file_fails(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "bad-values.yaml"
    bad.write_text(text)
    done = run(bad)
    assert done.returncode == 1
    assert "FAILED" in done.stdout and message in done.stdout


def _deployment(**probes: dict[str, object]) -> dict[str, object]:
    c = {"name": "media", "ports": [{"name": "metrics", "containerPort": 9090}], **probes}
    return {
        "kind": "Deployment",
        "metadata": {"name": "dubset-media-worker"},
        "spec": {"template": {"spec": {"containers": [c]}}},
    }


def test_a_workload_without_probes_fails_the_check() -> None:
    """A worker with no probes stays Running however wedged: the check names what is missing."""
    http = {"httpGet": {"path": "/readyz", "port": "metrics"}}
    assert helm_check.probe_problems(_deployment()) == [
        f"Deployment/dubset-media-worker: container media has no {kind}"
        for kind in ("startupProbe", "readinessProbe", "livenessProbe")
    ]
    probed = _deployment(startupProbe=http, readinessProbe=http, livenessProbe=http)
    assert helm_check.probe_problems(probed) == []
    by_number = {"httpGet": {"path": "/healthz", "port": 9090}}
    wrong = {"httpGet": {"path": "/healthz", "port": "health"}}
    assert helm_check.probe_problems(
        _deployment(startupProbe=http, readinessProbe=by_number, livenessProbe=wrong)
    ) == ["Deployment/dubset-media-worker: livenessProbe of media aims at undeclared port health"]
    assert helm_check.probe_problems({"kind": "Job", "spec": {}}) == []
