"""Liveness and readiness of a consumer loop, judged from its heartbeats and broker session."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

STARTING, POLLING, WORKING = "starting", "polling", "working"
MAX_PROGRESS_CHARS = 200


@dataclass(frozen=True)
class Verdict:
    """One probe's answer: ok is HTTP 200, else 503; status is a word, reason says why."""

    ok: bool
    status: str  # ok | starting | startup_timeout | stalled | no_session
    reason: str
    phase: str  # starting | polling | working
    heartbeat_age_s: float | None  # None while starting
    session: bool
    stall_s: float

    def body(self) -> dict[str, object]:
        """The JSON object the health endpoint answers with."""
        age = self.heartbeat_age_s
        return {
            "ok": self.ok,
            "status": self.status,
            "reason": self.reason,
            "phase": self.phase,
            "heartbeat_age_s": None if age is None else round(age, 1),
            "session": self.session,
            "stall_s": self.stall_s,
        }


class LoopHealth:
    """What the consumer loop last reported, with the clock injected; safe across threads.

    The loop calls started() once it consumes, heartbeat() each time it goes round (a poll
    returned, a backoff ticked), working(progress) when work in hand begins or reports
    progress, and session(held) after each poll. The loop is stalled when none of heartbeat()
    or working() came for stall_s. Liveness fails when it is stalled, when the broker session
    has been lost for stall_s, or when starting takes longer than startup_s; readiness also
    fails while starting and whenever the session is lost.
    """

    def __init__(
        self, stall_s: float, startup_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if stall_s <= 0 or startup_s <= 0:
            raise ValueError("stall_s and startup_s must be positive")
        self.stall_s = stall_s
        self.startup_s = startup_s
        self._clock = clock
        self._lock = threading.Lock()
        self._born = clock()
        self._phase = STARTING
        self._beat = self._born
        self._progress = ""
        self._session = False
        self._session_since = self._born  # when the session was last gained or lost

    def started(self) -> None:
        """Startup is over (the stage is built, the consumer created): the loop runs."""
        with self._lock:
            self._start(self._clock())

    def heartbeat(self) -> None:
        """The loop went round; work in hand, if any, is over."""
        with self._lock:
            now = self._clock()
            self._start(now)
            self._phase, self._beat, self._progress = POLLING, now, ""

    def working(self, progress: str = "") -> None:
        """Work in hand began or made progress (its hook reported): it counts as a heartbeat."""
        with self._lock:
            now = self._clock()
            self._start(now)
            self._phase, self._beat = WORKING, now
            self._progress = progress[:MAX_PROGRESS_CHARS]

    def session(self, held: bool) -> None:
        """Whether the broker holds the consumer's group session now."""
        with self._lock:
            if held != self._session:
                self._session, self._session_since = held, self._clock()

    def liveness(self) -> Verdict:
        """Fails only on a long stall, a long loss of the session, or a startup too long."""
        with self._lock:
            now = self._clock()
            if self._phase == STARTING:
                age = now - self._born
                if age > self.startup_s:
                    why = f"still starting after {age:.0f} s (limit {self.startup_s:.0f} s)"
                    return self._verdict(False, "startup_timeout", why, now)
                why = f"starting for {age:.0f} s (allowed {self.startup_s:.0f} s)"
                return self._verdict(True, "starting", why, now)
            stalled = self._stalled(now)
            if stalled is not None:
                return stalled
            lost = now - self._session_since
            if not self._session and lost > self.stall_s:
                why = f"no broker session for {lost:.0f} s (limit {self.stall_s:.0f} s)"
                return self._verdict(False, "no_session", why, now)
            return self._verdict(True, "ok", self._activity(now), now)

    def readiness(self) -> Verdict:
        """Ready: started, not stalled, and holding a broker session."""
        with self._lock:
            now = self._clock()
            if self._phase == STARTING:
                why = f"starting for {now - self._born:.0f} s"
                return self._verdict(False, "starting", why, now)
            stalled = self._stalled(now)
            if stalled is not None:
                return stalled
            if not self._session:
                why = f"no broker session for {now - self._session_since:.1f} s"
                return self._verdict(False, "no_session", why, now)
            return self._verdict(True, "ok", self._activity(now), now)

    def _start(self, now: float) -> None:
        if self._phase == STARTING:
            self._phase, self._beat, self._session_since = POLLING, now, now

    def _stalled(self, now: float) -> Verdict | None:
        age = now - self._beat
        if age <= self.stall_s:
            return None
        limit = f"(limit {self.stall_s:.0f} s)"
        if self._phase == WORKING:
            last = f"; last progress: {self._progress}" if self._progress else ""
            why = f"no progress on the work in hand for {age:.0f} s {limit}{last}"
        else:
            why = f"the consumer loop has not gone round for {age:.0f} s {limit}"
        return self._verdict(False, "stalled", why, now)

    def _activity(self, now: float) -> str:
        age = now - self._beat
        if self._phase == WORKING:
            what = f"working, progress {age:.1f} s ago"
            what += f" ({self._progress})" if self._progress else ""
        else:
            what = f"polling, heartbeat {age:.1f} s ago"
        if self._session:
            return f"{what}; broker session held"
        return f"{what}; no broker session for {now - self._session_since:.0f} s"

    def _verdict(self, ok: bool, status: str, reason: str, now: float) -> Verdict:
        age = None if self._phase == STARTING else now - self._beat
        return Verdict(ok, status, reason, self._phase, age, self._session, self.stall_s)
