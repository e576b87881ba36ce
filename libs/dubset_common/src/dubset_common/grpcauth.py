"""Optional TLS and bearer-token authentication for every dubset gRPC server and its clients.

Server side (read by grpcserver.create_server):
  DUBSET_GRPC_TOKEN_FILE   a file of accepted tokens, one per line (rotation: list old + new)
  DUBSET_GRPC_TOKEN        one accepted token (when no file is given)
  DUBSET_GRPC_TLS_CERT, DUBSET_GRPC_TLS_KEY   PEM certificate chain and key: serve TLS only
  DUBSET_GRPC_TLS_CLIENT_CA                   PEM CA bundle: also require client certificates

Client side (dubset CLI):
  DUBSET_GRPC_TOKEN        sent as `authorization: Bearer <token>`
  DUBSET_GRPC_TLS_CA       PEM CA bundle to verify the server; DUBSET_GRPC_TLS=1 for the
                           system roots

Health checks (grpc.health.v1.Health) need no token, so Kubernetes gRPC probes keep working;
every other method, reflection included, answers UNAUTHENTICATED without a valid token. Tokens
are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from dubset_common.errors import ConfigError

OPEN_PREFIXES = ("/grpc.health.v1.Health/",)
MIN_TOKEN_CHARS = 16


def _read(path_text: str, what: str) -> bytes:
    path = Path(path_text)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{what} {path_text!r:.200} cannot be read: {exc.strerror}") from None


def _check_tokens(tokens: list[str]) -> tuple[str, ...]:
    for token in tokens:
        if len(token) < MIN_TOKEN_CHARS or any(c.isspace() for c in token):
            raise ConfigError(
                f"gRPC tokens must be at least {MIN_TOKEN_CHARS} characters without spaces"
            )
    return tuple(tokens)


@dataclass(frozen=True)
class ServerSecurity:
    tokens: tuple[str, ...] = ()
    cert: bytes = b""
    key: bytes = b""
    client_ca: bytes = b""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerSecurity:
        source = os.environ if env is None else env
        tokens: list[str] = []
        if source.get("DUBSET_GRPC_TOKEN_FILE"):
            text = _read(source["DUBSET_GRPC_TOKEN_FILE"], "DUBSET_GRPC_TOKEN_FILE").decode()
            tokens = [line.strip() for line in text.splitlines() if line.strip()]
            if not tokens:
                raise ConfigError("DUBSET_GRPC_TOKEN_FILE holds no token")
        elif source.get("DUBSET_GRPC_TOKEN"):
            tokens = [source["DUBSET_GRPC_TOKEN"].strip()]
        cert_path = source.get("DUBSET_GRPC_TLS_CERT", "")
        key_path = source.get("DUBSET_GRPC_TLS_KEY", "")
        if bool(cert_path) != bool(key_path):
            raise ConfigError("DUBSET_GRPC_TLS_CERT and DUBSET_GRPC_TLS_KEY go together")
        ca_path = source.get("DUBSET_GRPC_TLS_CLIENT_CA", "")
        if ca_path and not cert_path:
            raise ConfigError("DUBSET_GRPC_TLS_CLIENT_CA needs DUBSET_GRPC_TLS_CERT and _KEY")
        return cls(
            _check_tokens(tokens),
            _read(cert_path, "DUBSET_GRPC_TLS_CERT") if cert_path else b"",
            _read(key_path, "DUBSET_GRPC_TLS_KEY") if key_path else b"",
            _read(ca_path, "DUBSET_GRPC_TLS_CLIENT_CA") if ca_path else b"",
        )

    @property
    def tls(self) -> bool:
        return bool(self.cert)

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.key, self.cert)],
            root_certificates=self.client_ca or None,
            require_client_auth=bool(self.client_ca),
        )

    def interceptors(self) -> list[grpc.ServerInterceptor]:  # type: ignore[type-arg]
        return [TokenInterceptor(self.tokens)] if self.tokens else []


def token_ok(metadata: Any, tokens: tuple[str, ...]) -> bool:
    """Whether the call's metadata carries `authorization: Bearer <one of tokens>`."""
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            given = value[len("Bearer ") :].encode()
            return any(hmac.compare_digest(given, t.encode()) for t in tokens)
    return False


class TokenInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """UNAUTHENTICATED for every call but health checks unless it carries a valid token."""

    def __init__(self, tokens: tuple[str, ...]) -> None:
        self._tokens = tokens

        def deny(_request: Any, context: grpc.ServicerContext) -> Any:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token")

        # One refusal per call shape (request streaming, response streaming).
        self._deny = {
            (False, False): grpc.unary_unary_rpc_method_handler(deny),
            (False, True): grpc.unary_stream_rpc_method_handler(deny),
            (True, False): grpc.stream_unary_rpc_method_handler(deny),
            (True, True): grpc.stream_stream_rpc_method_handler(deny),
        }

    def intercept_service(
        self, continuation: Callable[[Any], Any], handler_call_details: Any
    ) -> Any:
        method = handler_call_details.method
        if method.startswith(OPEN_PREFIXES):
            return continuation(handler_call_details)
        if token_ok(handler_call_details.invocation_metadata, self._tokens):
            return continuation(handler_call_details)
        handler = continuation(handler_call_details)
        if handler is None:
            return None  # an unknown method stays UNIMPLEMENTED
        return self._deny[(bool(handler.request_streaming), bool(handler.response_streaming))]


class _BearerInterceptor(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
):
    def __init__(self, token: str) -> None:
        self._pair = ("authorization", f"Bearer {token}")

    def _with_token(self, details: Any) -> Any:
        metadata = [*(details.metadata or ()), self._pair]
        return details._replace(metadata=metadata)

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_token(details), request)


def client_channel(target: str, env: Mapping[str, str] | None = None) -> grpc.Channel:
    """A channel to target with the TLS and token settings of env (os.environ by default)."""
    source = os.environ if env is None else env
    ca = source.get("DUBSET_GRPC_TLS_CA", "")
    if ca or source.get("DUBSET_GRPC_TLS", "") in ("1", "true"):
        roots = _read(ca, "DUBSET_GRPC_TLS_CA") if ca else None
        channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(roots))
    else:
        channel = grpc.insecure_channel(target)
    token = source.get("DUBSET_GRPC_TOKEN", "").strip()
    if token:
        channel = grpc.intercept_channel(channel, _BearerInterceptor(token))
    return channel
