"""Prometheus: its config, a health check on its own `up` sample, its start and scrape targets."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from localinfra.base import DEFAULT_RUN_DIR, HOST, Env
from localinfra.processes import find_executable, free_ports, spawn

TARGET_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def prometheus_bin() -> str:
    return find_executable("DUBSET_PROMETHEUS_BIN", [Path("/usr/bin/prometheus")], "prometheus")


def targets_dir(run_dir: Path) -> Path:
    return run_dir.resolve() / "prom_targets"


def http_get(url: str, timeout: float = 3.0) -> bytes | None:
    """The body of a 200 response, else None."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bytes(response.read()) if response.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


def prometheus_healthy(env: Env) -> bool:
    """/-/ready answers 200 and this instance's own `up{job="prometheus"}` sample is 1.

    The instance label matters: the TSDB outlives restarts, so the previous run's series
    (another port) would answer for 5 minutes.
    """
    url = env["DUBSET_PROMETHEUS_URL"]
    if http_get(f"{url}/-/ready") is None:
        return False
    query = f'up{{job="prometheus",instance="{url.removeprefix("http://")}"}}'
    body = http_get(f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": query}))
    try:
        result = json.loads(body or b"{}").get("data", {}).get("result", [])
    except ValueError:
        return False
    return any(sample.get("value", [None, None])[1] == "1" for sample in result)


def write_prometheus_config(run_dir: Path, port: int) -> Path:
    """prometheus.yml (written as JSON, which is YAML) scraping itself and prom_targets/*.json."""
    config = {
        "global": {"scrape_interval": "2s", "evaluation_interval": "2s"},
        "scrape_configs": [
            {"job_name": "prometheus", "static_configs": [{"targets": [f"{HOST}:{port}"]}]},
            {
                "job_name": "dubset",
                "file_sd_configs": [
                    {"files": [str(targets_dir(run_dir) / "*.json")], "refresh_interval": "5s"}
                ],
            },
        ],
    }
    path = run_dir / "prometheus.yml"
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


def start_prometheus(run_dir: Path, env: Env) -> Env:
    port = free_ports(1)[0]
    targets_dir(run_dir).mkdir(exist_ok=True)
    argv = [
        prometheus_bin(),
        f"--config.file={write_prometheus_config(run_dir, port)}",
        f"--storage.tsdb.path={run_dir / 'prometheus-data'}",
        f"--web.listen-address={HOST}:{port}",
        "--web.enable-lifecycle",
    ]
    spawn(run_dir, "prometheus", argv)
    return {
        "DUBSET_PROMETHEUS_URL": f"http://{HOST}:{port}",
        "DUBSET_PROM_TARGETS_DIR": str(targets_dir(run_dir)),
    }


def register_scrape_target(name: str, host_port: str, run_dir: Path = DEFAULT_RUN_DIR) -> Path:
    """Make Prometheus (job `dubset`) scrape http://HOST:PORT/metrics; returns the file written.

    Writes `<run_dir>/prom_targets/<name>.json` (the directory is $DUBSET_PROM_TARGETS_DIR), in
    Prometheus' file_sd format:

        [{"targets": ["127.0.0.1:9123"], "labels": {"service": "<name>"}}]

    Prometheus picks the file up within seconds; the series carry job="dubset",
    instance="127.0.0.1:9123" and service="<name>". Registering the same name again replaces
    the target; `unregister_scrape_target(name)` (or deleting the file) removes it. Any
    process may write such a file itself; write it atomically (temp file + rename). CLI:
    `python tools/infra.py register NAME HOST:PORT`.
    """
    if not TARGET_NAME.match(name):
        raise ValueError(f"target name must match {TARGET_NAME.pattern}: {name!r}")
    directory = targets_dir(run_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    tmp = directory / f".{name}.json.tmp"
    tmp.write_text(json.dumps([{"targets": [host_port], "labels": {"service": name}}]) + "\n")
    tmp.replace(path)
    return path


def unregister_scrape_target(name: str, run_dir: Path = DEFAULT_RUN_DIR) -> None:
    (targets_dir(run_dir) / f"{name}.json").unlink(missing_ok=True)
