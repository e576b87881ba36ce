"""The stage worker loop: consume requests, execute, publish the result, then commit."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from dubset.v1 import common_pb2
from dubset_common import topics
from dubset_common.bus import Bus, Consumer, Producer, Record
from dubset_common.errors import DubsetError, InvalidInputError, TransientError
from dubset_common.health import LoopHealth
from dubset_common.ledger import DeliveryLedger, safe_request_id
from dubset_common.logs import log_context
from dubset_common.runner import StageExecutor

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0
# A dead letter or failed result must always fit in a Kafka message (1 MiB by default).
MAX_LETTER_VALUE_BYTES = 512 * 1024
MAX_LETTER_KEY_BYTES = 1024
MAX_ERROR_CHARS = 4096
# The request whose work runs in this context: progress hooks report against it.
_CURRENT: contextvars.ContextVar[common_pb2.StageRequest | None] = contextvars.ContextVar(
    "dubset_current_request", default=None
)


@dataclass(frozen=True)
class Failure:
    code: str
    message: str
    attempts: int
    started_unix_ms: int = 0


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
        request = _CURRENT.get()
        if request is None:
            return
        fraction = min(1.0, max(0.0, float(fraction)))
        now = time.monotonic()
        with self._lock:
            last = self._last
            if (
                last is not None
                and last[0] == request.request_id
                and now - last[1] < self.min_interval_s
                and abs(fraction - last[2]) < self.min_step
            ):
                return
            self._last = (request.request_id, now, fraction)
            if self._producer is None:
                self._producer = self.bus.producer()
            producer = self._producer
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

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close()


class StageWorker:
    """At-least-once consumer of one stage's requests topic; idempotent through the executor."""

    def __init__(
        self,
        executor: StageExecutor,
        bus: Bus,
        *,
        group: str | None = None,
        max_attempts: int = 3,
        backoff_s: float = 1.0,
        poll_timeout_s: float = 0.5,
        topic_prefix: str = "",
        progress: bool = False,
        transient_retry_s: float = 600.0,
        ledger: DeliveryLedger | None = None,
        max_crashes: int = 3,
        health: LoopHealth | None = None,
    ) -> None:
        """max_attempts: tries of a request whose stage fails (a bug, a bad library call);
        transient_retry_s: how long a dependency that is down (store, broker, remote API) is
        waited for before the request fails, without using up attempts;
        ledger: counts deliveries that never finished (the worker died): a request delivered
        max_crashes times without finishing fails instead of killing the next worker too;
        progress: also publish the work's progress hook on the progress topic;
        health: told of every turn of the loop, the work's progress and the broker session
        (what the metrics port's /healthz and /readyz answer from)."""
        stage = executor.stage.name
        self.executor = executor
        self.bus = bus
        self.group = group or f"{topic_prefix}dubset-{stage}"
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.transient_retry_s = transient_retry_s
        self.ledger = ledger
        self.max_crashes = max_crashes
        self.poll_timeout_s = poll_timeout_s
        self.requests_topic = topics.requests(stage, topic_prefix)
        self.results_topic = topics.results(stage, topic_prefix)
        self.dlq_topic = topics.dlq(stage, topic_prefix)
        self.stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{stage}-work")
        self.health = health
        self.progress: ProgressPublisher | None = None
        if progress:
            self.progress = ProgressPublisher(bus, stage, topics.progress(topic_prefix))
        inner = executor.hook

        def hook(fraction: float, message: str) -> None:
            inner(fraction, message)
            if self.health is not None:  # progress of the work in hand is its heartbeat
                self.health.working(f"{min(1.0, max(0.0, fraction)):.0%} {message}")
            if self.progress is not None:
                self.progress.report(fraction, message)

        executor.hook = hook

    def run(self) -> None:
        """Loop until stop is set; the message in hand is finished and committed first."""
        self.bus.ensure_topics([self.requests_topic, self.results_topic, self.dlq_topic])
        consumer = self.bus.consumer([self.requests_topic], self.group)
        producer = self.bus.producer()
        log.info("worker consuming %s as %s", self.requests_topic, self.group)
        if self.health is not None:
            self.health.started()
        try:
            while not self.stop.is_set():
                try:
                    records = consumer.poll(self.poll_timeout_s, max_records=1)
                except TransientError as exc:
                    log.warning("poll failed, retrying: %s", exc)
                    self._alive(consumer, beat=True)
                    self.stop.wait(self.backoff_s)
                    continue
                self._alive(consumer, beat=True)
                for record in records:
                    try:
                        self.handle(record, consumer, producer)
                    except TransientError as exc:
                        # Not committed: the record comes back and finished work is skipped.
                        log.warning("record left uncommitted: %s", exc)
        finally:
            consumer.close()
            producer.close()
            self._pool.shutdown(wait=True)
            if self.progress is not None:
                self.progress.close()

    def handle(self, record: Record, consumer: Consumer, producer: Producer) -> None:
        """Process one record fully, then commit it. Returns without committing only on stop."""
        request = _parse(record.value)
        if request is None:
            failure = Failure("INVALID_INPUT", "message is not a StageRequest", 0)
            if self._deliver_all(producer, [self._dead_letter(record, failure)], consumer):
                consumer.commit(record)
            return
        with log_context(
            job_id=request.job_id,
            episode_id=request.episode_id,
            stage=self.executor.stage.name,
            request_id=request.request_id,
        ):
            if request.submitted_unix_ms > 0:
                lag = max(0.0, time.time() - request.submitted_unix_ms / 1000)
                self.executor.metrics.handoff_seconds.observe(lag)
            earlier = self._begin(request, consumer)
            if earlier is None:
                return  # stopping while the store is down: redelivered
            outcome: common_pb2.StageResult | Failure | None
            if self.ledger is not None and earlier >= self.max_crashes > 0:
                outcome = _crashed(self.executor.stage.name, earlier)
            else:
                outcome = self._attempts(request, consumer)
            if outcome is None:
                self._ledger_call(consumer, lambda lg: lg.release(request.request_id, earlier))
                return  # stopping mid-retry: left uncommitted, so it is redelivered
            try:
                delivered = self._report(record, request, outcome, consumer, producer)
            except InvalidInputError as exc:
                # The broker can never take the result (too large): report that instead, so the
                # job fails with a reason rather than this partition retrying forever.
                attempts = outcome.attempts
                started = outcome.started_unix_ms
                failure = Failure(
                    "INVALID_INPUT", f"the result cannot be published: {exc}", attempts, started
                )
                try:
                    delivered = self._report(record, request, failure, consumer, producer)
                except InvalidInputError as again:
                    log.error("request dropped: not even its failure can be published: %s", again)
                    delivered = True
            if delivered:
                consumer.commit(record)
                self._ledger_call(consumer, lambda lg: lg.finish(request.request_id))

    def _begin(self, request: common_pb2.StageRequest, consumer: Consumer) -> int | None:
        """Earlier unfinished deliveries of this request (0 without a ledger); None on stop."""
        if self.ledger is None or not safe_request_id(request.request_id):
            return 0
        earlier = self._ledger_call(consumer, lambda lg: lg.begin(request.request_id))
        if earlier:
            log.warning("request delivered again after %d unfinished deliveries", earlier)
        return earlier

    def _ledger_call(
        self, consumer: Consumer, fn: Callable[[DeliveryLedger], int | None]
    ) -> int | None:
        """fn(ledger) until the store answers; None when stop came first."""
        ledger = self.ledger
        if ledger is None:
            return 0
        delay = self.backoff_s
        while True:
            try:
                return fn(ledger) or 0
            except TransientError as exc:
                log.warning("delivery ledger unavailable, retrying: %s", exc)
                if self._pause(consumer, delay):
                    return None
                delay = min(delay * 2, MAX_BACKOFF_S)

    def _report(
        self,
        record: Record,
        request: common_pb2.StageRequest,
        outcome: common_pb2.StageResult | Failure,
        consumer: Consumer,
        producer: Producer,
    ) -> bool:
        """Publish the result (and a dead letter for a failure); False when stop came."""
        messages: list[tuple[str, bytes | None, bytes]] = []
        if isinstance(outcome, Failure):
            log.error("request failed: %s: %s", outcome.code, outcome.message)
            messages.append(self._dead_letter(record, outcome))
            outcome = self._failed_result(request, outcome)
        messages.append((self.results_topic, record.key, outcome.SerializeToString()))
        return self._deliver_all(producer, messages, consumer)

    def _deliver_all(
        self,
        producer: Producer,
        messages: list[tuple[str, bytes | None, bytes]],
        consumer: Consumer,
    ) -> bool:
        return all(self._deliver(producer, m, consumer) for m in messages)

    def _attempts(
        self, request: common_pb2.StageRequest, consumer: Consumer
    ) -> common_pb2.StageResult | Failure | None:
        """The result, a Failure to report, or None when stop came during a retry backoff.

        A failing stage is tried max_attempts times; a dependency that is down (TransientError)
        is waited out, with backoff, for up to transient_retry_s without using up attempts."""
        tries, failures, outage = 0, 0, 0
        started = int(time.time() * 1000)
        first_outage: float | None = None
        while True:
            tries += 1
            try:
                result = self._run_keeping_alive(request, consumer)
                result.attempts = tries
                result.started_unix_ms = started
                result.finished_unix_ms = int(time.time() * 1000)
                return result
            except TransientError as exc:
                first_outage = time.monotonic() if first_outage is None else first_outage
                waited = time.monotonic() - first_outage
                if waited >= self.transient_retry_s:
                    why = f"{exc} (still failing after {waited:.0f} s of retries)"
                    return Failure(exc.code, why, tries, started)
                outage += 1
                delay = self.backoff_s * 2 ** min(outage - 1, 10)
                log.warning("try %d: a dependency is unavailable, retrying: %s", tries, exc)
            except DubsetError as exc:
                failures += 1
                if not exc.retryable or failures >= self.max_attempts:
                    return Failure(exc.code, str(exc), tries, started)
                delay = self.backoff_s * 2 ** (failures - 1)
                log.warning("attempt %d failed, retrying: %s", failures, exc)
            except Exception as exc:  # a bug or an unknown library failure: retry, then DLQ
                failures += 1
                log.exception("attempt %d crashed", failures)
                if failures >= self.max_attempts:
                    return Failure("INTERNAL", f"{type(exc).__name__}: {exc}", tries, started)
                delay = self.backoff_s * 2 ** (failures - 1)
            self.executor.metrics.retries.inc()
            if self._pause(consumer, delay):
                return None

    def _run_keeping_alive(
        self, request: common_pb2.StageRequest, consumer: Consumer
    ) -> common_pb2.StageResult:
        # Run in a copy of this context so the work's log lines keep job_id, episode_id, stage.
        context = contextvars.copy_context()
        context.run(_CURRENT.set, request)
        if self.health is not None:
            self.health.working(f"started request {request.request_id}")
        future: Future[common_pb2.StageResult] = self._pool.submit(
            context.run, self.executor.execute, request
        )
        # Not future.result(timeout): its TimeoutError is the builtin one (3.11), so the work's
        # own TimeoutError (socket.timeout) would look like "not done yet" forever.
        while not wait([future], timeout=self.poll_timeout_s).done:
            consumer.keepalive()
            # Only the work's own progress is a heartbeat now: a call stuck without reporting
            # any, while this loop keeps the group session, is the stall to detect.
            self._alive(consumer, beat=False)
        self._alive(consumer, beat=True)
        return future.result()

    def _alive(self, consumer: Consumer, *, beat: bool) -> None:
        """Tell the health state the loop went round (beat) and whether the session holds."""
        if self.health is None:
            return
        if beat:
            self.health.heartbeat()
        self.health.session(consumer.has_session())

    def _pause(self, consumer: Consumer, seconds: float) -> bool:
        """Wait up to MAX_BACKOFF_S while staying in the group; True when stop came."""
        deadline = time.monotonic() + min(seconds, MAX_BACKOFF_S)
        while (left := deadline - time.monotonic()) > 0:
            if self.stop.wait(min(left, self.poll_timeout_s)):
                return True
            consumer.keepalive()
            self._alive(consumer, beat=True)  # waiting out a backoff on purpose is no stall
        return self.stop.is_set()

    def _deliver(
        self, producer: Producer, message: tuple[str, bytes | None, bytes], consumer: Consumer
    ) -> bool:
        """Publish until durable; give up only when asked to stop (the record is redelivered).
        InvalidInputError: the broker can never take this message."""
        topic, key, value = message
        delay = self.backoff_s
        while True:
            try:
                producer.publish(topic, key, value)
                return True
            except TransientError as exc:
                log.warning("publish to %s failed, retrying: %s", topic, exc)
                if self._pause(consumer, delay):
                    return False
                delay = min(delay * 2, MAX_BACKOFF_S)

    def _dead_letter(self, record: Record, failure: Failure) -> tuple[str, bytes | None, bytes]:
        self.executor.metrics.dead_letters.inc()
        letter = common_pb2.DeadLetter(
            source_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=(record.key or b"")[:MAX_LETTER_KEY_BYTES],
            value=record.value[:MAX_LETTER_VALUE_BYTES],
            error_code=failure.code,
            error_message=failure.message[:MAX_ERROR_CHARS],
            attempts=failure.attempts,
        )
        return (self.dlq_topic, record.key, letter.SerializeToString())

    def _failed_result(
        self, request: common_pb2.StageRequest, failure: Failure
    ) -> common_pb2.StageResult:
        self.executor.metrics.requests.labels("failed", "").inc()
        return common_pb2.StageResult(
            request_id=request.request_id,
            job_id=request.job_id,
            episode_id=request.episode_id,
            stage=self.executor.stage.name,
            status=common_pb2.STAGE_STATUS_FAILED,
            error_code=failure.code,
            error_message=failure.message[:MAX_ERROR_CHARS],
            attempts=failure.attempts,
            started_unix_ms=failure.started_unix_ms,
            finished_unix_ms=int(time.time() * 1000),
        )


def _crashed(stage: str, deliveries: int) -> Failure:
    return Failure(
        "CRASHED",
        f"the {stage} worker stopped {deliveries} times while working on this request "
        "(killed, out of memory, or a crash in native code): not tried again",
        deliveries,
    )


def _parse(value: bytes) -> common_pb2.StageRequest | None:
    """The request in a record's value, or None when it is not a StageRequest."""
    request = common_pb2.StageRequest()
    try:
        request.ParseFromString(value)
    except DecodeError:
        return None
    return request if request.request_id else None
