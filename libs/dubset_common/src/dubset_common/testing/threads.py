"""Waiting on a condition, and a worker loop run in a thread for the length of a block."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol


class Loop(Protocol):
    """A worker: run() until stop is set."""

    stop: threading.Event

    def run(self) -> None: ...


def wait_for(check: Callable[[], object], timeout_s: float = 5.0) -> None:
    """Poll check() until it is true; AssertionError after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        time.sleep(0.005)


@contextlib.contextmanager
def running(worker: Loop, join_s: float = 5.0) -> Iterator[threading.Thread]:
    """Run worker.run() in a thread; stop it and require it to exit on leaving the block."""
    thread = threading.Thread(target=worker.run, name="test-worker", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        worker.stop.set()
        thread.join(join_s)
    assert not thread.is_alive(), "worker did not stop"
