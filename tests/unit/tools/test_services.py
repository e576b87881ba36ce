"""tools/services.py: worker replicas are named, started, listed and stopped (fake processes)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tools"))

import infra  # noqa: E402

import services  # noqa: E402

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
WORKERS = (
    "alignment",
    "media",
    "separation",
    "asr",
    "diarization",
    "packaging",
    "tts",
    "translation",
    "render",
    "faces",
    "quality",
)


def test_replica_names() -> None:
    assert services._name("asr", "worker") == "asr-worker"
    assert services._name("asr", "worker", 1) == "asr-worker"
    assert services._name("asr", "worker", 3) == "asr-worker-3"
    assert services._name("asr", "serve", 3) == "asr-server"  # servers are never replicated


def test_plan_replicates_workers_only_and_keeps_the_orchestrator_last() -> None:
    one = [name for name, *_ in services.plan(1)]
    two = [name for name, *_ in services.plan(2)]
    assert one == [services._name(s, r) for s, r, _ in services.SERVICES]
    assert len(two) == len(one) + len(WORKERS)
    for stage in WORKERS:
        assert two.index(f"{stage}-worker-2") == two.index(f"{stage}-worker") + 1
    assert [n for n in two if n.endswith("-server")] == [n for n in one if n.endswith("-server")]
    assert two[-1] == "jobs-server"
    with pytest.raises(ValueError, match="at least 1"):
        services.plan(0)


def test_every_service_runs_its_server_and_worker() -> None:
    """Each stage with a gRPC service has its server and its worker in SERVICES (the jobs
    service: its server only), and its servicer's name is the one the health check asks for."""
    import importlib

    stages = {p.name for p in (ROOT / "services").iterdir() if (p / "src").is_dir()}
    listed = {(s, r) for s, r, _ in services.SERVICES}
    assert listed == {(s, r) for s in stages - {"jobs"} for r in ("serve", "worker")} | {
        ("jobs", "serve")
    }
    for stage, role, grpc_name in services.SERVICES:
        if role == "serve" and stage != "jobs":
            server = importlib.import_module(f"dubset_{stage}.server")
            assert grpc_name == server.SERVICE_NAME, stage
    assert ("translation", "serve", "dubset.v1.TranslationService") in services.SERVICES
    assert ("render", "serve", "dubset.v1.RenderService") in services.SERVICES


def test_the_render_server_runs_on_the_store_and_answers_the_readiness_check(
    tmp_path: Path,
) -> None:
    """Like packaging's, the render server takes the object store (its Render call runs the
    stage there) and reports SERVING under the name `up` waits for."""
    from dubset_common.objstore import LocalStore
    from dubset_render.server import start

    [grpc_name] = [g for s, r, g in services.SERVICES if (s, r) == ("render", "serve")]
    running = start("127.0.0.1:0", LocalStore(tmp_path / "store"))
    try:
        assert services._grpc_ready(f"127.0.0.1:{running.port}", grpc_name)
        assert not services._grpc_ready(f"127.0.0.1:{running.port}", "dubset.v1.PackagingService")
    finally:
        running.drain(0)


def test_only_translation_gets_its_openai_settings_from_the_environment() -> None:
    environ = {
        "DUBSET_TRANSLATION_ENDPOINTS": "http://127.0.0.1:8000/v1",
        "DUBSET_TRANSLATION_API_KEY_FILE": "/run/key",
        "DUBSET_S3_SECRET_KEY": "not passed",
        "PATH": "/bin",
    }
    assert services.service_env("translation", environ) == {
        "DUBSET_TRANSLATION_ENDPOINTS": "http://127.0.0.1:8000/v1",
        "DUBSET_TRANSLATION_API_KEY_FILE": "/run/key",
    }
    assert services.service_env("asr", environ) == {}
    assert services.service_env("translation", {}) == {}


def test_known_names_come_from_pid_files_and_services_json(tmp_path: Path) -> None:
    assert services.known_names(tmp_path) == [name for name, *_ in services.plan(1)]
    (tmp_path / "asr-worker-3.pid").write_text("1\n")
    (tmp_path / "nonsense-worker-2.pid").write_text("1\n")  # not a stage: ignored
    (tmp_path / "services.json").write_text(json.dumps({"tts-worker-2": {}, "asr-server": {}}))
    names = services.known_names(tmp_path)
    assert names.index("asr-worker-3") == names.index("asr-worker") + 1
    assert "tts-worker-2" in names and "nonsense-worker-2" not in names
    (tmp_path / "services.json").write_text("not json")
    assert "tts-worker-2" not in services.known_names(tmp_path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


@pytest.fixture(autouse=True)
def _no_leftovers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever a test spawns is killed afterwards, should its down() not have stopped it."""
    pids: list[int] = []
    real_spawn = infra.spawn

    def spawn(
        run_dir: Path, name: str, argv: list[str], extra: dict[str, str] | None = None
    ) -> int:
        pid = real_spawn(run_dir, name, argv, extra)
        pids.append(pid)
        return pid

    monkeypatch.setattr(infra, "spawn", spawn)
    yield
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


@pytest.fixture
def fake_up(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, str]]]:
    """services.up with every service replaced by a sleeping Python process (no readiness
    probes); returns the (name, environment) of each process spawned."""
    spawned: list[tuple[str, dict[str, str]]] = []
    tracked_spawn = infra.spawn

    def spawn(run_dir: Path, name: str, argv: list[str], extra: dict[str, str]) -> int:
        assert argv[1:3] == ["-m", f"dubset_{name.split('-', maxsplit=1)[0]}"]
        spawned.append((name, extra))
        return tracked_spawn(run_dir, name, SLEEPER, extra)

    monkeypatch.setattr(infra, "spawn", spawn)
    monkeypatch.setattr(services, "_wait", lambda *_args: None)
    return spawned


def test_up_starts_replicas_and_down_stops_them(
    tmp_path: Path,
    fake_up: list[tuple[str, dict[str, str]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        state = services.up(tmp_path, {}, {"DUBSET_KAFKA_PARTITIONS": "2"}, worker_replicas=2)
        names = [name for name, _ in fake_up]
        assert names == [name for name, *_ in services.plan(2)]
        assert set(state) == set(names)
        # Each replica its own metrics endpoint (the fakes bind nothing, so ports may repeat).
        for name, env in fake_up:
            assert state[name]["metrics"] == f"127.0.0.1:{env['DUBSET_METRICS_PORT']}"
        assert state["asr-worker-2"]["grpc"] == "" and state["asr-server"]["grpc"]
        assert all(env["DUBSET_KAFKA_PARTITIONS"] == "2" for _, env in fake_up)
        # No caller environment given: no openai settings (unset endpoints: any, as embedded).
        assert not [n for n, env in fake_up if "DUBSET_TRANSLATION_ENDPOINTS" in env]
        assert set(json.loads((tmp_path / "services.json").read_text())) == set(names)
        pids = {name: infra.read_pid(tmp_path, name) for name in names}
        assert all(pid is not None and _alive(pid) for pid in pids.values())

        # Idempotent: what runs is not started again.
        fake_up.clear()
        services.up(tmp_path, {}, {"DUBSET_KAFKA_PARTITIONS": "2"}, worker_replicas=2)
        assert fake_up == []

        capsys.readouterr()
        assert services.status(tmp_path) == 0
        listed = capsys.readouterr().out
        assert "asr-worker-2" in listed and "DOWN" not in listed
    finally:
        services.down(tmp_path)
    for name, pid in pids.items():
        assert pid is not None and not _alive(pid), f"{name} still running"
        assert not infra.pid_path(tmp_path, name).exists()
    assert not (tmp_path / "services.json").exists()


def test_up_gives_the_openai_settings_to_the_translation_processes_only(
    tmp_path: Path, fake_up: list[tuple[str, dict[str, str]]]
) -> None:
    environ = {"DUBSET_TRANSLATION_ENDPOINTS": "http://127.0.0.1:8000/v1", "HOME": "/x"}
    try:
        services.up(tmp_path, {"DUBSET_BUS": "kafka"}, worker_replicas=2, environ=environ)
    finally:
        services.down(tmp_path)
    got = {name: env.get("DUBSET_TRANSLATION_ENDPOINTS") for name, env in fake_up}
    translation = {"translation-server", "translation-worker", "translation-worker-2"}
    assert {n for n, v in got.items() if v == "http://127.0.0.1:8000/v1"} == translation
    assert {n for n, v in got.items() if v is None} == set(got) - translation
    assert all(env["DUBSET_BUS"] == "kafka" and "HOME" not in env for _, env in fake_up)


def test_down_finds_replicas_without_services_json(tmp_path: Path) -> None:
    """A replica's pid file alone is enough for down (services.json lost or never written)."""
    try:
        pid = infra.spawn(tmp_path, "media-worker-4", SLEEPER)
        assert "media-worker-4" in services.known_names(tmp_path)
        assert services.status(tmp_path) == 1  # the other services are not running
    finally:
        services.down(tmp_path)
    assert not _alive(pid)


def test_status_reports_a_dead_replica(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "asr-worker-2.pid").write_text("999999999\n")
    assert services.status(tmp_path) == 1
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("asr-worker-2"))
    assert line.split()[-1] == "DOWN"


def test_more_replicas_than_partitions_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    services._check_partitions({"DUBSET_KAFKA_PARTITIONS": "1"}, 2)
    assert "1 replica(s) of each worker stay idle" in capsys.readouterr().err
    services._check_partitions({}, services.DEFAULT_PARTITIONS)
    assert capsys.readouterr().err == ""


def test_cli_rejects_zero_replicas(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        services.main(["up", "--dir", str(tmp_path), "--worker-replicas", "0"])
