"""Shared values of the local servers: the address, timeouts, the env mapping and Component."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
REGION = "us-east-1"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
LOG_TAIL_LINES = 30
DEFAULT_RUN_DIR = Path(__file__).resolve().parents[2] / ".run"

Env = dict[str, str]
Say = Callable[[str], None]


class InfraError(RuntimeError):
    """A component could not be started or did not become ready."""


@dataclass(frozen=True)
class Component:
    """One server: how to start it, how to tell it is healthy, and its executable's name."""

    name: str
    executable: str
    start: Callable[[Path, Env], Env]
    healthy: Callable[[Env], bool]
