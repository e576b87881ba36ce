"""`make helm-lint`: lint and render the chart with each values file, validate what it renders.

    .venv/bin/python tools/helm_check.py [VALUES.yaml ...]   # default: the chart's ci/*.yaml

For the defaults and each values file: `helm lint --strict` (Kubernetes 1.32), the values
schema, a render as an install, every built-in object validated strictly against the
Kubernetes 1.32 schemas (kubernetes-validate), every workload's containers probed (startup,
readiness and liveness, an HTTP probe on a port the container declares), custom resources
checked for their group and kind, and the rules of each PrometheusRule checked with
`promtool check rules`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "deploy" / "helm" / "dubset"
KUBE_VERSION = "1.32.0"
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
CUSTOM = {
    "keda.sh/v1alpha1": {"ScaledObject"},
    "monitoring.coreos.com/v1": {"ServiceMonitor", "PodMonitor", "PrometheusRule"},
}


def render(chart: Any, values: dict[str, Any] | None) -> list[dict[str, Any]]:
    chart.validate_schema(values)
    out = chart.render(values, name="dubset", namespace="dubset", is_install=True)
    docs: list[dict[str, Any]] = []
    for name, text in sorted(out.items()):
        if name.endswith(".yaml"):
            docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


def problems_of(docs: list[dict[str, Any]], work: Path) -> list[str]:
    import kubernetes_validate  # type: ignore[import-untyped]

    found: list[str] = []
    for doc in docs:
        where = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        group = doc.get("apiVersion", "")
        if group in CUSTOM:
            if doc.get("kind") not in CUSTOM[group] or "spec" not in doc:
                found.append(f"{where}: not a {group} kind this chart renders")
            if doc.get("kind") == "PrometheusRule":
                found += promtool(doc, work)
            continue
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except Exception as exc:  # ValidationError, SchemaNotFoundError
            found.append(f"{where}: {exc}".splitlines()[0])
        found += probe_problems(doc)
    return found


def probe_problems(doc: dict[str, Any]) -> list[str]:
    """A long-running container without all three probes stays "Running" however wedged it is;
    an HTTP probe must aim at a port its container declares."""
    if doc.get("kind") not in WORKLOADS:
        return []
    where = f"{doc['kind']}/{doc.get('metadata', {}).get('name')}"
    pod = doc.get("spec", {}).get("template", {}).get("spec", {})
    found: list[str] = []
    for c in pod.get("containers", []):
        ports = {p.get("name") for p in c.get("ports", [])}
        ports |= {p.get("containerPort") for p in c.get("ports", [])}
        for kind in PROBES:
            probe = c.get(kind)
            if not probe:
                found.append(f"{where}: container {c.get('name')} has no {kind}")
            elif "httpGet" in probe and probe["httpGet"].get("port") not in ports:
                port = probe["httpGet"].get("port")
                found.append(f"{where}: {kind} of {c.get('name')} aims at undeclared port {port}")
    return found


def promtool(rule: dict[str, Any], work: Path) -> list[str]:
    binary = shutil.which("promtool")
    if binary is None:
        return ["promtool is not installed (apt-get install prometheus)"]
    path = work / f"{rule['metadata']['name']}.rules.yaml"
    path.write_text(yaml.safe_dump(rule["spec"]))
    done = subprocess.run(
        [binary, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return [f"PrometheusRule/{rule['metadata']['name']}: {done.stdout}{done.stderr}".strip()]
    return []


def _shown(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def check(values_files: list[Path]) -> int:
    import helm_python

    failures = 0
    report = helm_python.lint(CHART, strict=True, kube_version=f"v{KUBE_VERSION}")
    lint_errors = report["errors"] + [m["error"] for m in report["messages"] if m["severity"] >= 2]
    print(f"helm lint --strict: {lint_errors or 'ok'}")
    failures += bool(lint_errors)
    with helm_python.Chart.load(CHART) as chart, tempfile.TemporaryDirectory() as tmp:
        for path in [None, *values_files]:
            label = "defaults" if path is None else _shown(path)
            try:
                values = None if path is None else yaml.safe_load(path.read_text()) or {}
                if path is not None:
                    lint = helm_python.lint(
                        CHART, values, strict=True, kube_version=f"v{KUBE_VERSION}"
                    )
                    if lint["errors"]:
                        raise ValueError(f"helm lint: {lint['errors']}")
                docs = render(chart, values)
                found = problems_of(docs, Path(tmp))
            except Exception as exc:  # HelmError, HelmValuesError, YAML errors
                found, docs = [f"{type(exc).__name__}: {exc}"], []
            kinds = sorted({d["kind"] for d in docs})
            status = "ok" if not found else "FAILED"
            print(f"{label}: {status}, {len(docs)} objects ({', '.join(kinds)})")
            for line in found:
                print(f"  {line}")
            failures += bool(found)
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("values", nargs="*", type=Path)
    args = parser.parse_args()
    files = [p.resolve() for p in args.values] or sorted((CHART / "ci").glob("*.yaml"))
    sys.exit(check(files))


if __name__ == "__main__":
    main()
