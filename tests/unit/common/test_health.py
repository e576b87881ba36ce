"""Worker health: heartbeats and session judged, served as /healthz and /readyz, fed by the loop."""

from __future__ import annotations

import json
import queue
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from dubset_common.bus import InProcBus
from dubset_common.config import load_settings
from dubset_common.errors import ConfigError
from dubset_common.health import LoopHealth
from dubset_common.metrics import StageMetrics, serve_metrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageContext, StageExecutor, StageOutcome
from dubset_common.testing.stages import STAGE, FakeStage, make_request
from dubset_common.testing.threads import running, wait_for
from dubset_common.wiring import build_health
from dubset_common.worker import StageWorker

STALL_S, STARTUP_S = 60.0, 300.0


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def health(clock: Clock) -> LoopHealth:
    return LoopHealth(STALL_S, STARTUP_S, clock)


def _running(health: LoopHealth) -> None:
    health.started()
    health.session(True)


# --- the pure judgement ------------------------------------------------------------------------


def test_starting_is_alive_but_not_ready_until_the_startup_grace_runs_out(
    health: LoopHealth, clock: Clock
) -> None:
    clock.now += STARTUP_S - 1  # models loading, no heartbeat yet
    live, ready = health.liveness(), health.readiness()
    assert (live.ok, live.status) == (True, "starting")
    assert (ready.ok, ready.status) == (False, "starting")
    assert live.heartbeat_age_s is None and live.phase == "starting"
    clock.now += 2
    live = health.liveness()
    assert (live.ok, live.status) == (False, "startup_timeout")
    assert f"limit {STARTUP_S:.0f} s" in live.reason


def test_a_started_loop_is_ready_once_it_holds_a_session(health: LoopHealth) -> None:
    health.started()
    ready = health.readiness()
    assert (ready.ok, ready.status) == (False, "no_session")
    assert health.liveness().ok  # joining the group is no reason to restart
    health.session(True)
    ready = health.readiness()
    assert (ready.ok, ready.status, ready.phase) == (True, "ok", "polling")
    assert "broker session held" in ready.reason


def test_a_loop_that_stops_going_round_is_stalled_until_its_next_heartbeat(
    health: LoopHealth, clock: Clock
) -> None:
    _running(health)
    clock.now += STALL_S  # exactly the limit: not yet
    assert health.liveness().ok and health.readiness().ok
    clock.now += 1
    for verdict in (health.liveness(), health.readiness()):
        assert (verdict.ok, verdict.status, verdict.phase) == (False, "stalled", "polling")
        assert "consumer loop has not gone round for 61 s (limit 60 s)" in verdict.reason
        assert verdict.heartbeat_age_s == pytest.approx(STALL_S + 1)
    health.heartbeat()
    assert health.liveness().ok and health.readiness().ok


def test_work_that_reports_progress_is_alive_however_long_it_takes(
    health: LoopHealth, clock: Clock
) -> None:
    _running(health)
    health.working("started request r-1")
    for step in range(10):  # ten times the stall limit in all, a step within it each time
        clock.now += STALL_S - 1
        health.working(f"{step * 10}% embedded {step}/10 windows")
        assert health.liveness().ok and health.readiness().ok
    ok = health.liveness()
    assert ok.phase == "working" and "embedded 9/10 windows" in ok.reason


def test_work_silent_for_longer_than_the_limit_is_stalled_and_says_what_it_last_did(
    health: LoopHealth, clock: Clock
) -> None:
    _running(health)
    health.working("40% pyannote pipeline")
    clock.now += STALL_S + 5
    live = health.liveness()
    assert (live.ok, live.status, live.phase) == (False, "stalled", "working")
    assert "no progress on the work in hand for 65 s" in live.reason
    assert live.reason.endswith("last progress: 40% pyannote pipeline")
    assert not health.readiness().ok
    health.working("50% clustering")
    assert health.liveness().ok


def test_a_lost_session_unreadies_at_once_and_kills_only_after_the_limit(
    health: LoopHealth, clock: Clock
) -> None:
    _running(health)
    health.session(False)
    clock.now += STALL_S
    health.heartbeat()  # polling goes on, against no broker
    ready, live = health.readiness(), health.liveness()
    assert (ready.ok, ready.status) == (False, "no_session")
    assert live.ok and "no broker session for 60 s" in live.reason
    clock.now += 2
    health.heartbeat()
    health.session(False)  # still lost: the clock of the loss is not reset
    live = health.liveness()
    assert (live.ok, live.status) == (False, "no_session")
    assert "no broker session for 62 s (limit 60 s)" in live.reason
    health.session(True)
    assert health.liveness().ok and health.readiness().ok


def test_the_body_is_small_json_that_says_why(health: LoopHealth, clock: Clock) -> None:
    _running(health)
    health.working("x" * 1000)
    clock.now += 100
    body = health.liveness().body()
    assert json.loads(json.dumps(body)) == body
    assert set(body) == {
        "ok",
        "status",
        "reason",
        "phase",
        "heartbeat_age_s",
        "session",
        "stall_s",
    }
    assert (body["ok"], body["status"], body["heartbeat_age_s"]) == (False, "stalled", 100.0)
    assert len(str(body["reason"])) < 400  # a runaway progress message is cut


@pytest.mark.parametrize(("stall", "startup"), [(0, 1), (1, 0), (-5, 10)])
def test_thresholds_must_be_positive(stall: float, startup: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        LoopHealth(stall, startup)


def test_settings_give_the_thresholds_and_refuse_nonsense() -> None:
    base = {"DUBSET_BUS": "inproc", "DUBSET_STORE": "local"}
    defaults = load_settings("asr", base)
    assert (defaults.health_stall_s, defaults.health_startup_s) == (1800.0, 600.0)
    tuned = load_settings(
        "asr", {**base, "DUBSET_HEALTH_STALL_S": "120", "DUBSET_HEALTH_STARTUP_S": "30"}
    )
    assert (tuned.health_stall_s, tuned.health_startup_s) == (120.0, 30.0)
    health = build_health(tuned)
    assert (health.stall_s, health.startup_s) == (120.0, 30.0)
    for name, raw in [("STALL_S", "0"), ("STARTUP_S", "0.5"), ("STALL_S", "nan")]:
        with pytest.raises(ConfigError, match="DUBSET_HEALTH_STALL_S"):
            load_settings("asr", {**base, f"DUBSET_HEALTH_{name}": raw})


# --- the HTTP endpoint ---------------------------------------------------------------------------


def _get(port: int, path: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
            return reply.status, reply.headers["Content-Type"], reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_the_metrics_port_serves_health_next_to_metrics(health: LoopHealth, clock: Clock) -> None:
    registry = CollectorRegistry()
    StageMetrics.create(registry, "alignment").retries.inc(2)
    port = serve_metrics(registry, 0, "127.0.0.1", health)
    status, kind, body = _get(port, "/readyz")
    assert (status, kind) == (503, "application/json")
    assert json.loads(body)["status"] == "starting"
    assert _get(port, "/healthz")[0] == 200
    _running(health)
    for path in ("/healthz", "/readyz"):
        status, _, body = _get(port, path)
        assert status == 200 and json.loads(body)["ok"] is True
    clock.now += STALL_S + 1
    status, _, body = _get(port, "/healthz")
    assert status == 503 and json.loads(body)["status"] == "stalled"
    status, _, body = _get(port, "/metrics")
    assert status == 200 and b"dubset_alignment_retries_total 2.0" in body


def test_without_a_loop_the_health_paths_are_not_found() -> None:
    """A gRPC server's metrics port: its probes are gRPC; a stray HTTP probe must not pass."""
    port = serve_metrics(CollectorRegistry(), 0, "127.0.0.1")
    for path in ("/healthz", "/readyz"):
        status, _, body = _get(port, path)
        assert status == 404 and json.loads(body)["ok"] is False
    assert _get(port, "/metrics")[0] == 200


def test_health_paths_answer_get_and_head_and_refuse_other_methods(health: LoopHealth) -> None:
    port = serve_metrics(CollectorRegistry(), 0, "127.0.0.1", health)
    _running(health)
    url = f"http://127.0.0.1:{port}/healthz"
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=5) as reply:
        assert reply.status == 200 and reply.read() == b""
    for method in ("POST", "DELETE"):
        request = urllib.request.Request(url, data=b"x", method=method)
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(request, timeout=5)
        assert exc.value.code == 405 and json.loads(exc.value.read())["ok"] is False


# --- the worker loop reports to it ---------------------------------------------------------------


class SteppedStage(FakeStage):
    """Reports one progress step per message put on `steps`, then finishes on None."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: queue.Queue[str | None] = queue.Queue()
        self.done_steps: queue.Queue[str] = queue.Queue()
        self.entered = threading.Event()

    def run(self, ctx: StageContext) -> StageOutcome:
        self.entered.set()
        while (step := self.steps.get(timeout=10)) is not None:
            ctx.hook(0.3, step)
            self.done_steps.put(step)
        return super().run(ctx)


def _worker(tmp_path: Path, stage: FakeStage, health: LoopHealth, bus: object) -> StageWorker:
    store = LocalStore(tmp_path / "store")
    executor = StageExecutor(stage, store, StageMetrics.create(CollectorRegistry(), STAGE))  # type: ignore[arg-type]
    return StageWorker(executor, bus, poll_timeout_s=0.02, health=health)  # type: ignore[arg-type]


def test_the_worker_loop_is_healthy_while_its_work_progresses_and_stalled_when_it_goes_silent(
    tmp_path: Path, health: LoopHealth, clock: Clock
) -> None:
    bus = InProcBus()
    stage = SteppedStage()
    worker = _worker(tmp_path, stage, health, bus)
    assert health.readiness().status == "starting"
    with running(worker):
        wait_for(lambda: health.readiness().ok)  # polling, with a session
        request = make_request(LocalStore(tmp_path / "store"))
        bus.producer().publish(worker.requests_topic, b"ep-1", request.SerializeToString())
        assert stage.entered.wait(5)
        # The loop keeps the group session while the call runs: that is no heartbeat.
        clock.now += STALL_S - 1
        stage.steps.put("embedding")
        assert stage.done_steps.get(timeout=5) == "embedding"
        clock.now += STALL_S - 1
        live = health.liveness()
        assert live.ok and live.phase == "working" and "30% embedding" in live.reason
        clock.now += 2  # silent for longer than the limit
        live = health.liveness()
        assert (live.ok, live.status) == (False, "stalled")
        assert "last progress: 30% embedding" in live.reason
        assert not health.readiness().ok
        stage.steps.put(None)  # the call returns; the loop goes round again
        wait_for(lambda: len(bus.records(worker.results_topic)) == 1)
        wait_for(lambda: health.liveness().phase == "polling")
        assert health.liveness().ok and health.readiness().ok


def test_the_worker_reports_a_consumer_without_a_session(
    tmp_path: Path, health: LoopHealth
) -> None:
    inproc = InProcBus()

    class NoSession:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        def has_session(self) -> bool:
            return False

    class Bus:
        def __getattr__(self, name: str) -> object:
            return getattr(inproc, name)

        def consumer(self, topics: list[str], group: str) -> object:
            return NoSession(inproc.consumer(topics, group))

    worker = _worker(tmp_path, FakeStage(), health, Bus())
    with running(worker):
        wait_for(lambda: health.readiness().status == "no_session")
        assert health.liveness().ok
