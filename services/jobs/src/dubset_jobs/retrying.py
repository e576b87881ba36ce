"""Calls to the broker and the store, retried on TransientError until the service stops."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from dubset_common.errors import TransientError

log = logging.getLogger(__name__)
T = TypeVar("T")


def retrying(fn: Callable[[], T], stop: threading.Event) -> T:
    """fn until it does not raise TransientError; the error itself once stopping."""
    delay = 0.2
    while True:
        try:
            return fn()
        except TransientError as exc:
            if stop.is_set():
                raise
            log.warning("retrying in %.1f s: %s", delay, exc)
            stop.wait(delay)
            delay = min(delay * 2, 10.0)
