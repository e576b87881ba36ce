"""Waiting without losing the consumer group: keep-alives, heartbeats and stoppable backoff."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import TypeVar

from dubset_common.bus import Consumer
from dubset_common.errors import TransientError
from dubset_common.health import LoopHealth

MAX_BACKOFF_S = 30.0

T = TypeVar("T")


@dataclass(frozen=True)
class GroupSession:
    """A consumer's place in its group, kept while the worker waits on work or on a backoff;
    every wait ends early when `stop` is set."""

    consumer: Consumer
    stop: threading.Event
    poll_timeout_s: float
    health: LoopHealth | None

    def alive(self, *, beat: bool) -> None:
        """Tell the health state the loop went round (beat) and whether the session holds."""
        if self.health is None:
            return
        if beat:
            self.health.heartbeat()
        self.health.session(self.consumer.has_session())

    def pause(self, seconds: float) -> bool:
        """Wait up to MAX_BACKOFF_S while staying in the group; True when stop came."""
        deadline = time.monotonic() + min(seconds, MAX_BACKOFF_S)
        while (left := deadline - time.monotonic()) > 0:
            if self.stop.wait(min(left, self.poll_timeout_s)):
                return True
            self.consumer.keepalive()
            self.alive(beat=True)  # waiting out a backoff on purpose is no stall
        return self.stop.is_set()

    def result(self, future: Future[T]) -> T:
        """The future's result, staying in the group while it runs."""
        # Not future.result(timeout): its TimeoutError is the builtin one (3.11), so the work's
        # own TimeoutError (socket.timeout) would look like "not done yet" forever.
        while not wait([future], timeout=self.poll_timeout_s).done:
            self.consumer.keepalive()
            # Only the work's own progress is a heartbeat now: a call stuck without reporting
            # any, while this loop keeps the group session, is the stall to detect.
            self.alive(beat=False)
        self.alive(beat=True)
        return future.result()

    def retry(
        self, fn: Callable[[], T], delay: float, warn: Callable[[TransientError], None]
    ) -> T | None:
        """fn() until it raises no TransientError, pausing twice as long each time (up to
        MAX_BACKOFF_S); None when stop came first."""
        while True:
            try:
                return fn()
            except TransientError as exc:
                warn(exc)
                if self.pause(delay):
                    return None
                delay = min(delay * 2, MAX_BACKOFF_S)
