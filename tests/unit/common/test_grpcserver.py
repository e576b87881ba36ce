"""gRPC scaffolding: health and reflection for every service, and a graceful drain on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from dubset_alignment.server import start
from dubset_common.errors import (
    ConfigError,
    DubsetError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    TransientError,
)
from dubset_common.grpcserver import RunningServer, create_server, status_for

ALIGNMENT = "dubset.v1.AlignmentService"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def server() -> Iterator[RunningServer]:
    running = start("127.0.0.1:0")
    yield running
    running.server.stop(0).wait()


@pytest.fixture
def channel(server: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as ch:
        yield ch


def check(channel: grpc.Channel, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status  # type: ignore[no-any-return]


def test_binds_a_free_port(server: RunningServer) -> None:
    assert server.port > 0 and server.service_names == (ALIGNMENT,)


def test_health_serving_for_server_and_service(channel: grpc.Channel) -> None:
    assert check(channel, "") == health_pb2.HealthCheckResponse.SERVING
    assert check(channel, ALIGNMENT) == health_pb2.HealthCheckResponse.SERVING


def test_health_of_unknown_service_is_not_found(channel: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as info:
        check(channel, "dubset.v1.NoSuchService")
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_the_service(channel: grpc.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    (response,) = list(stub.ServerReflectionInfo(iter([request]), timeout=5))
    names = {s.name for s in response.list_services_response.service}
    assert {ALIGNMENT, "grpc.health.v1.Health"} <= names


def test_drain_reports_not_serving_and_refuses_new_calls(
    server: RunningServer, channel: grpc.Channel
) -> None:
    assert check(channel, ALIGNMENT) == health_pb2.HealthCheckResponse.SERVING
    server.drain(0.5)
    with pytest.raises(grpc.RpcError) as info:
        check(channel, "")
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert (
        server.health.Check(health_pb2.HealthCheckRequest(service=ALIGNMENT), None).status
        == health_pb2.HealthCheckResponse.NOT_SERVING
    )


def test_a_second_server_on_a_busy_port_fails_to_start() -> None:
    # With SO_REUSEPORT both would start and silently split the traffic between them.
    first = create_server("127.0.0.1:0", [], [])
    try:
        with pytest.raises((RuntimeError, OSError), match=r"127\.0\.0\.1"):
            create_server(f"127.0.0.1:{first.port}", [], [])
    finally:
        first.server.stop(0).wait()


def test_a_port_held_by_another_program_fails_to_start() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises((RuntimeError, OSError)):
            create_server(f"127.0.0.1:{sock.getsockname()[1]}", [], [])


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInputError, grpc.StatusCode.INVALID_ARGUMENT),
        (NotFoundError, grpc.StatusCode.NOT_FOUND),
        (IntegrityError, grpc.StatusCode.FAILED_PRECONDITION),
        (TransientError, grpc.StatusCode.UNAVAILABLE),
        (ConfigError, grpc.StatusCode.FAILED_PRECONDITION),
        (DubsetError, grpc.StatusCode.INTERNAL),
    ],
)
def test_status_for_maps_error_codes(error: type[DubsetError], status: grpc.StatusCode) -> None:
    assert status_for(error.code) == status


def test_status_for_unknown_code_is_internal() -> None:
    assert status_for("SOMETHING_NEW") == grpc.StatusCode.INTERNAL


SLOW_SERVER = textwrap.dedent(
    """
    import sys, time
    import grpc
    from dubset_common.grpcserver import create_server, serve_until_signal

    def slow(request, context):
        time.sleep(2.0)
        return b"done:" + request

    handler = grpc.method_handlers_generic_handler(
        "test.Slow", {"Call": grpc.unary_unary_rpc_method_handler(slow)}
    )
    running = create_server(
        "127.0.0.1:0", ["test.Slow"], [lambda s: s.add_generic_rpc_handlers((handler,))]
    )
    print(running.port, flush=True)
    serve_until_signal(running, 10.0)
    print("drained", flush=True)
    """
)


def test_sigterm_drains_calls_in_flight_then_exits_zero() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [
            str(REPO / "libs/dubset_protos/src"),
            str(REPO / "libs/dubset_common/src"),
            env.get("PYTHONPATH", ""),
        ]
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_SERVER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        call = channel.unary_unary("/test.Slow/Call")
        health = health_pb2_grpc.HealthStub(channel)
        assert (
            health.Check(health_pb2.HealthCheckRequest(service="test.Slow"), timeout=5).status
            == health_pb2.HealthCheckResponse.SERVING
        )

        outcome: dict[str, object] = {}

        def slow_call() -> None:
            try:
                outcome["value"] = call(b"x", timeout=10)
            except grpc.RpcError as exc:
                outcome["error"] = exc.code()

        started = time.monotonic()
        thread = threading.Thread(target=slow_call)
        thread.start()
        time.sleep(0.5)  # the call is now in the handler's sleep
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)

        # Draining: health says NOT_SERVING or the server refuses the call outright.
        try:
            status = health.Check(health_pb2.HealthCheckRequest(service="test.Slow"), timeout=2)
            assert status.status == health_pb2.HealthCheckResponse.NOT_SERVING
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAVAILABLE
        with pytest.raises(grpc.RpcError) as refused:
            call(b"late", timeout=2)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE

        thread.join(10)
        assert outcome == {"value": b"done:x"}
        assert 1.8 <= time.monotonic() - started < 5
        out, err = proc.communicate(timeout=5)
        assert proc.returncode == 0, err
        assert out.strip() == "drained"
        assert time.monotonic() - started < 6
        channel.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_dubset_error_from_any_method_becomes_its_status() -> None:
    """Servicers hold no try/except: the server maps a DubsetError in unary and streaming
    methods onto its status and message; any other exception stays UNKNOWN."""

    def unary(request: bytes, context: grpc.ServicerContext) -> bytes:
        if request == b"bad":
            raise InvalidInputError("the request is bad")
        if request == b"bug":
            raise RuntimeError("a bug")
        return b"ok:" + request

    def stream(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
        yield b"first"
        raise NotFoundError("job j not found")

    handlers = grpc.method_handlers_generic_handler(
        "t.T",
        {
            "U": grpc.unary_unary_rpc_method_handler(unary),
            "S": grpc.unary_stream_rpc_method_handler(stream),
        },
    )
    running = create_server(
        "127.0.0.1:0", ["t.T"], [lambda s: s.add_generic_rpc_handlers((handlers,))]
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as ch:
            call = ch.unary_unary("/t.T/U")
            assert call(b"x", timeout=5) == b"ok:x"
            with pytest.raises(grpc.RpcError) as exc:
                call(b"bad", timeout=5)
            assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert exc.value.details() == "the request is bad"
            with pytest.raises(grpc.RpcError) as exc:
                call(b"bug", timeout=5)
            assert exc.value.code() == grpc.StatusCode.UNKNOWN
            replies = ch.unary_stream("/t.T/S")(b"", timeout=5)
            assert next(replies) == b"first"
            with pytest.raises(grpc.RpcError) as exc:
                next(replies)
            assert exc.value.code() == grpc.StatusCode.NOT_FOUND
            assert exc.value.details() == "job j not found"
    finally:
        running.server.stop(0).wait()
