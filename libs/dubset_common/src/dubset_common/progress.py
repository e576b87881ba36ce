"""Publishing the progress hook of the request a stage worker is working on."""

from __future__ import annotations

import contextvars
import logging
import threading
import time

from dubset.v1 import common_pb2
from dubset_common.bus import Bus, Producer
from dubset_common.errors import DubsetError
from dubset_common.failures import MAX_ERROR_CHARS

# The stage worker's logger: the logger name is part of every JSON log line.
log = logging.getLogger("dubset_common.worker")

# The request whose work runs in this context: progress hooks report against it.
CURRENT_REQUEST: contextvars.ContextVar[common_pb2.StageRequest | None] = contextvars.ContextVar(
    "dubset_current_request", default=None
)


class ProgressPublisher:
    """Publishes the executor's hook(fraction, message) for the request being worked on as
    StageProgressEvents, at most one per min_interval_s unless the fraction moved min_step."""

    def __init__(
        self,
        bus: Bus,
        stage: str,
        topic: str,
        *,
        min_interval_s: float = 1.0,
        min_step: float = 0.1,
    ) -> None:
        self.bus = bus
        self.stage = stage
        self.topic = topic
        self.min_interval_s = min_interval_s
        self.min_step = min_step
        self._producer: Producer | None = None
        self._lock = threading.Lock()
        self._last: tuple[str, float, float] | None = None  # request id, time, fraction

    def report(self, fraction: float, message: str) -> None:
        """Best effort: a broker failure is logged, never raised into the work."""
        request = CURRENT_REQUEST.get()
        if request is None:
            return
        fraction = min(1.0, max(0.0, float(fraction)))
        producer = self._producer_if_due(request.request_id, fraction)
        if producer is None:
            return
        event = common_pb2.StageProgressEvent(
            job_id=request.job_id,
            episode_id=request.episode_id,
            request_id=request.request_id,
            progress=common_pb2.StageProgress(
                stage=self.stage,
                state="RUNNING",
                fraction=fraction,
                message=message[:MAX_ERROR_CHARS],
                request_id=request.request_id,
            ),
        )
        try:
            producer.publish(self.topic, request.episode_id.encode(), event.SerializeToString())
        except DubsetError as exc:  # never a reason to fail the work
            log.warning("progress not published: %s", exc)

    def _producer_if_due(self, request_id: str, fraction: float) -> Producer | None:
        """The producer when this report is to be published (and noted as the last); else None."""
        now = time.monotonic()
        with self._lock:
            last = self._last
            if (
                last is not None
                and last[0] == request_id
                and now - last[1] < self.min_interval_s
                and abs(fraction - last[2]) < self.min_step
            ):
                return None
            self._last = (request_id, now, fraction)
            if self._producer is None:
                self._producer = self.bus.producer()
            return self._producer

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close()
