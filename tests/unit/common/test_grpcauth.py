"""Bearer tokens and TLS on a real gRPC server built by create_server, and the CLI's channel."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from dubset_common.errors import ConfigError
from dubset_common.grpcauth import ServerSecurity, client_channel
from dubset_common.grpcserver import RunningServer, create_server

TOKEN = "s3cr3t-token-0123456789"
ECHO = "/test.Echo/Say"
Serve = Callable[[ServerSecurity], str]
STREAM = "/test.Echo/Count"


def _add_echo(server: grpc.Server) -> None:
    def count(request: bytes, _ctx: grpc.ServicerContext) -> Iterator[bytes]:
        yield from (request, request)

    handler = grpc.method_handlers_generic_handler(
        "test.Echo",
        {
            "Say": grpc.unary_unary_rpc_method_handler(lambda req, _ctx: b"echo:" + req),
            "Count": grpc.unary_stream_rpc_method_handler(count),
        },
    )
    server.add_generic_rpc_handlers((handler,))


@pytest.fixture
def serve() -> Iterator[Callable[[ServerSecurity], str]]:
    started: list[RunningServer] = []

    def start(security: ServerSecurity) -> str:
        running = create_server("127.0.0.1:0", ["test.Echo"], [_add_echo], security=security)
        started.append(running)
        return f"127.0.0.1:{running.port}"

    yield start
    for running in started:
        running.server.stop(0).wait()


def _say(channel: grpc.Channel) -> bytes:
    result: bytes = channel.unary_unary(ECHO)(b"hi", timeout=5)
    return result


def _code(fn: Callable[[], Any]) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        fn()
    code: grpc.StatusCode = err.value.code()
    return code


def test_without_a_token_setting_calls_are_open(serve: Serve) -> None:
    addr = serve(ServerSecurity())
    with client_channel(addr, {}) as channel:
        assert _say(channel) == b"echo:hi"


def test_tokens_are_required_except_for_health(serve: Serve) -> None:
    addr = serve(ServerSecurity(tokens=(TOKEN,)))
    with client_channel(addr, {}) as channel:
        assert _code(lambda: _say(channel)) == grpc.StatusCode.UNAUTHENTICATED
        stream = channel.unary_stream(STREAM)
        assert _code(lambda: list(stream(b"x", timeout=5))) == grpc.StatusCode.UNAUTHENTICATED
        health = health_pb2_grpc.HealthStub(channel)
        reply = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        unknown = channel.unary_unary("/test.Echo/Nope")
        assert _code(lambda: unknown(b"", timeout=5)) == grpc.StatusCode.UNIMPLEMENTED
    with client_channel(addr, {"DUBSET_GRPC_TOKEN": "wrong-token-0123456789"}) as channel:
        assert _code(lambda: _say(channel)) == grpc.StatusCode.UNAUTHENTICATED
    with client_channel(addr, {"DUBSET_GRPC_TOKEN": TOKEN}) as channel:
        assert _say(channel) == b"echo:hi"
        assert list(channel.unary_stream(STREAM)(b"x", timeout=5)) == [b"x", b"x"]


def test_a_token_file_accepts_every_listed_token(serve: Serve, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN}\n\nnext-token-abcdefghijklmnop\n")
    security = ServerSecurity.from_env({"DUBSET_GRPC_TOKEN_FILE": str(tokens)})
    addr = serve(security)
    for token in (TOKEN, "next-token-abcdefghijklmnop"):
        with client_channel(addr, {"DUBSET_GRPC_TOKEN": token}) as channel:
            assert _say(channel) == b"echo:hi"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DUBSET_GRPC_TOKEN": "short"}, "at least 16 characters"),
        ({"DUBSET_GRPC_TOKEN_FILE": "/nonexistent/tokens"}, "cannot be read"),
        ({"DUBSET_GRPC_TLS_CERT": "/x.pem"}, "go together"),
        ({"DUBSET_GRPC_TLS_CLIENT_CA": "/ca.pem"}, "needs DUBSET_GRPC_TLS_CERT"),
    ],
)
def test_bad_settings_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ServerSecurity.from_env(env)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key, crt = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True,
    )  # fmt: skip
    return crt, key


def test_tls_serves_only_tls_clients_that_trust_it(
    serve: Serve,
    cert: tuple[Path, Path],
) -> None:
    crt, key = cert
    env = {"DUBSET_GRPC_TLS_CERT": str(crt), "DUBSET_GRPC_TLS_KEY": str(key)}
    addr = serve(ServerSecurity.from_env({**env, "DUBSET_GRPC_TOKEN": TOKEN}))
    with client_channel(addr, {"DUBSET_GRPC_TLS_CA": str(crt), "DUBSET_GRPC_TOKEN": TOKEN}) as ch:
        assert _say(ch) == b"echo:hi"
    with client_channel(addr, {"DUBSET_GRPC_TOKEN": TOKEN}) as plain:
        assert _code(lambda: _say(plain)) == grpc.StatusCode.UNAVAILABLE
    with client_channel(addr, {"DUBSET_GRPC_TLS": "1", "DUBSET_GRPC_TOKEN": TOKEN}) as untrusted:
        assert _code(lambda: _say(untrusted)) == grpc.StatusCode.UNAVAILABLE
