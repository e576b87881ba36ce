"""gRPC server scaffolding: health, reflection, optional TLS and token authentication
(dubset_common.grpcauth, from the environment), and a graceful drain on SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from dataclasses import dataclass
from types import FrameType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from dubset_common.errors import DubsetError
from dubset_common.grpcauth import ServerSecurity

log = logging.getLogger(__name__)

AddServicer = Callable[[grpc.Server], None]
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


@dataclass
class RunningServer:
    """A started server, its bound port, and its health servicer."""

    server: grpc.Server
    port: int
    health: health.HealthServicer
    service_names: tuple[str, ...]

    def drain(self, grace_s: float) -> None:
        """Report NOT_SERVING, refuse new calls, let calls in flight finish within grace_s."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace_s).wait()


def create_server(
    addr: str,
    service_names: Iterable[str],
    add_servicers: Iterable[AddServicer],
    *,
    max_workers: int = 8,
    interceptors: Iterable[grpc.ServerInterceptor] = (),  # type: ignore[type-arg]
    security: ServerSecurity | None = None,
) -> RunningServer:
    """Build and start a server on addr ('host:0' picks a free port) with health + reflection;
    TLS and token checks as `security` (default: from the DUBSET_GRPC_* environment) says."""
    names = tuple(service_names)
    security = ServerSecurity.from_env() if security is None else security
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers),
        # innermost last: a DubsetError is a status before the metrics see the call end
        interceptors=[*security.interceptors(), *interceptors, ErrorStatusInterceptor()],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            # A second server on a busy port must fail, not silently share its traffic.
            ("grpc.so_reuseport", 0),
        ],
    )
    for add in add_servicers:
        add(server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    if security.tls:
        port = server.add_secure_port(addr, security.credentials())
    else:
        port = server.add_insecure_port(addr)
    if port == 0:
        raise OSError(f"cannot bind gRPC server to {addr}")
    server.start()
    for name in ("", *names):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info(
        "gRPC serving %s on port %d (%s, %s)",
        ", ".join(names),
        port,
        "TLS" if security.tls else "plaintext",
        f"{len(security.tokens)} bearer token(s)" if security.tokens else "no token check",
    )
    return RunningServer(server, port, health_servicer, names)


def install_stop_signals(on_stop: Callable[[], None]) -> threading.Event:
    """Call on_stop once on SIGTERM or SIGINT; returns an event set when the signal came."""
    stopped = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        if stopped.is_set():
            return
        stopped.set()
        log.info("signal %d: draining", signum)
        threading.Thread(target=on_stop, name="drain", daemon=True).start()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stopped


def serve_until_signal(running: RunningServer, grace_s: float) -> None:
    """Block until SIGTERM/SIGINT, then drain gracefully and return."""
    done = threading.Event()

    def stop() -> None:
        running.drain(grace_s)
        done.set()

    install_stop_signals(stop)
    done.wait()
    log.info("gRPC server stopped")


_STATUS = {
    "INVALID_INPUT": grpc.StatusCode.INVALID_ARGUMENT,
    "NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    "INTEGRITY": grpc.StatusCode.FAILED_PRECONDITION,
    "UNAVAILABLE": grpc.StatusCode.UNAVAILABLE,
    "CONFIG": grpc.StatusCode.FAILED_PRECONDITION,
}


def status_for(code: str) -> grpc.StatusCode:
    """The gRPC status of a DubsetError code (INTERNAL when unknown)."""
    return _STATUS.get(code, grpc.StatusCode.INTERNAL)


class ErrorStatusInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """A DubsetError out of any servicer method (unary or streaming) ends the call with its
    status (status_for) and message, so servicers only map requests onto handlers."""

    def intercept_service(
        self, continuation: Callable[[Any], Any], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        if handler.unary_unary is not None:
            unary = handler.unary_unary

            def call(request: Any, context: grpc.ServicerContext) -> Any:
                try:
                    return unary(request, context)
                except DubsetError as exc:
                    context.abort(status_for(exc.code), str(exc))

            return grpc.unary_unary_rpc_method_handler(
                call, handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream is not None:
            stream = handler.unary_stream

            def replies(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                try:
                    yield from stream(request, context)
                except DubsetError as exc:
                    context.abort(status_for(exc.code), str(exc))

            return grpc.unary_stream_rpc_method_handler(
                replies, handler.request_deserializer, handler.response_serializer
            )
        return handler
