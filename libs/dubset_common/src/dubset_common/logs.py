"""JSON logs, one object per line, with service, job, episode and stage context."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator
from typing import TextIO

_CONTEXT: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("dubset_log_context")
_CONTEXT_FIELDS = ("job_id", "episode_id", "stage", "request_id")
_STD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


@contextlib.contextmanager
def log_context(**fields: str) -> Iterator[None]:
    """Attach job_id/episode_id/stage/request_id to every log line inside the block."""
    merged = {**_CONTEXT.get({}), **{k: v for k, v in fields.items() if v}}
    token = _CONTEXT.set(merged)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object; known secrets are masked."""

    def __init__(self, service: str, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._service = service
        self._secrets = tuple(s for s in secrets if len(s) >= 4)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_CONTEXT.get({}))
        for key, value in record.__dict__.items():
            if key not in _STD_ATTRS and not key.startswith("_"):
                entry[key] = value if isinstance(value, (int, float, bool)) else str(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # Mask before encoding: JSON escapes a secret holding a quote or backslash.
        masked = {k: self._mask(v) if isinstance(v, str) else v for k, v in entry.items()}
        return json.dumps(masked, ensure_ascii=False, default=str)

    def _mask(self, line: str) -> str:
        for secret in self._secrets:
            line = line.replace(secret, "***")
        return line


def configure_logging(
    service: str, level: str = "INFO", secrets: tuple[str, ...] = (), stream: TextIO | None = None
) -> None:
    """Route the root logger to JSON lines on stderr. Called once from a service's __main__."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service, secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("kafka", "botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def context_fields() -> dict[str, str]:
    """The log context now in force (for tests and error reports)."""
    return {k: v for k, v in _CONTEXT.get({}).items() if k in _CONTEXT_FIELDS}
