"""The stage worker loop: consume requests, execute, publish the result, then commit."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from dubset.v1 import common_pb2
from dubset_common import topics
from dubset_common.bus import Bus, Consumer, Producer, Record
from dubset_common.errors import DubsetError, InvalidInputError, TransientError
from dubset_common.failures import Failure, crashed, dead_letter, failed_result, parse_request
from dubset_common.health import LoopHealth
from dubset_common.keepalive import GroupSession
from dubset_common.ledger import DeliveryLedger, safe_request_id
from dubset_common.logs import log_context
from dubset_common.progress import CURRENT_REQUEST as _CURRENT
from dubset_common.progress import ProgressPublisher
from dubset_common.runner import StageExecutor

__all__ = ["Failure", "ProgressPublisher", "StageWorker"]

log = logging.getLogger(__name__)

Message = tuple[str, bytes | None, bytes]  # topic, key, value
Outcome = common_pb2.StageResult | Failure


class StageWorker:
    """At-least-once consumer of one stage's requests topic; idempotent through the executor."""

    def __init__(
        self,
        executor: StageExecutor[Any],
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
        session = self._session(consumer)
        log.info("worker consuming %s as %s", self.requests_topic, self.group)
        if self.health is not None:
            self.health.started()
        try:
            while not self.stop.is_set():
                try:
                    records = consumer.poll(self.poll_timeout_s, max_records=1)
                except TransientError as exc:
                    log.warning("poll failed, retrying: %s", exc)
                    session.alive(beat=True)
                    self.stop.wait(self.backoff_s)
                    continue
                session.alive(beat=True)
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
        session = self._session(consumer)
        request = parse_request(record.value)
        if request is None:
            failure = Failure("INVALID_INPUT", "message is not a StageRequest", 0)
            if self._deliver_all(producer, [self._dead_letter(record, failure)], session):
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
            earlier = self._begin(request, session)
            if earlier is None:
                return  # stopping while the store is down: redelivered
            outcome: Outcome | None
            killer = self.ledger is not None and earlier >= self.max_crashes > 0
            if killer:
                outcome = crashed(self.executor.stage.name, earlier, self.max_crashes)
            else:
                outcome = self._attempts(request, session)
            if outcome is None:
                self._ledger_call(session, lambda lg: lg.release(request.request_id, earlier))
                return  # stopping mid-retry: left uncommitted, so it is redelivered
            if self._report(record, request, outcome, session, producer):
                consumer.commit(record)
                if not killer:
                    # A request that killed its workers keeps its count: a copy of it (a
                    # replay, a re-send) fails at once instead of killing more workers.
                    self._ledger_call(session, lambda lg: lg.finish(request.request_id))

    def _session(self, consumer: Consumer) -> GroupSession:
        return GroupSession(consumer, self.stop, self.poll_timeout_s, self.health)

    def _begin(self, request: common_pb2.StageRequest, session: GroupSession) -> int | None:
        """Earlier unfinished deliveries of this request (0 without a ledger); None on stop."""
        if self.ledger is None or not safe_request_id(request.request_id):
            return 0
        earlier = self._ledger_call(session, lambda lg: lg.begin(request.request_id))
        if earlier:
            log.warning("request delivered again after %d unfinished deliveries", earlier)
        return earlier

    def _ledger_call(
        self, session: GroupSession, fn: Callable[[DeliveryLedger], int | None]
    ) -> int | None:
        """fn(ledger) until the store answers; None when stop came first."""
        ledger = self.ledger
        if ledger is None:
            return 0

        def warn(exc: TransientError) -> None:
            log.warning("delivery ledger unavailable, retrying: %s", exc)

        return session.retry(lambda: fn(ledger) or 0, self.backoff_s, warn)

    def _report(
        self,
        record: Record,
        request: common_pb2.StageRequest,
        outcome: Outcome,
        session: GroupSession,
        producer: Producer,
    ) -> bool:
        """Publish the outcome; True when done with the record, False when stop came."""
        try:
            return self._deliver_all(producer, self._messages(record, request, outcome), session)
        except InvalidInputError as exc:
            # The broker can never take the result (too large): report that instead, so the
            # job fails with a reason rather than this partition retrying forever.
            attempts = outcome.attempts
            started = outcome.started_unix_ms
            failure = Failure(
                "INVALID_INPUT", f"the result cannot be published: {exc}", attempts, started
            )
            try:
                messages = self._messages(record, request, failure)
                return self._deliver_all(producer, messages, session)
            except InvalidInputError as again:
                log.error("request dropped: not even its failure can be published: %s", again)
                return True

    def _messages(
        self, record: Record, request: common_pb2.StageRequest, outcome: Outcome
    ) -> list[Message]:
        """The result to publish, after a dead letter when the outcome is a failure."""
        messages: list[Message] = []
        if isinstance(outcome, Failure):
            log.error("request failed: %s: %s", outcome.code, outcome.message)
            if outcome.letter:
                messages.append(self._dead_letter(record, outcome))
            outcome = self._failed_result(request, outcome)
        messages.append((self.results_topic, record.key, outcome.SerializeToString()))
        return messages

    def _deliver_all(
        self, producer: Producer, messages: list[Message], session: GroupSession
    ) -> bool:
        return all(self._deliver(producer, m, session) for m in messages)

    def _attempts(self, request: common_pb2.StageRequest, session: GroupSession) -> Outcome | None:
        """The result, a Failure to report, or None when stop came during a retry backoff.

        A failing stage is tried max_attempts times; a dependency that is down (TransientError)
        is waited out, with backoff, for up to transient_retry_s without using up attempts."""
        tries, failures, outage = 0, 0, 0
        started = int(time.time() * 1000)
        first_outage: float | None = None
        while True:
            tries += 1
            try:
                result = self._run_keeping_alive(request, session)
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
            if session.pause(delay):
                return None

    def _run_keeping_alive(
        self, request: common_pb2.StageRequest, session: GroupSession
    ) -> common_pb2.StageResult:
        # Run in a copy of this context so the work's log lines keep job_id, episode_id, stage.
        context = contextvars.copy_context()
        context.run(_CURRENT.set, request)
        if self.health is not None:
            self.health.working(f"started request {request.request_id}")
        future: Future[common_pb2.StageResult] = self._pool.submit(
            context.run, self.executor.execute, request
        )
        return session.result(future)

    def _deliver(self, producer: Producer, message: Message, session: GroupSession) -> bool:
        """Publish until durable; give up only when asked to stop (the record is redelivered).
        InvalidInputError: the broker can never take this message."""
        topic, key, value = message

        def publish() -> bool:
            producer.publish(topic, key, value)
            return True

        def warn(exc: TransientError) -> None:
            log.warning("publish to %s failed, retrying: %s", topic, exc)

        return session.retry(publish, self.backoff_s, warn) is not None

    def _dead_letter(self, record: Record, failure: Failure) -> Message:
        self.executor.metrics.dead_letters.inc()
        return (self.dlq_topic, record.key, dead_letter(record, failure).SerializeToString())

    def _failed_result(
        self, request: common_pb2.StageRequest, failure: Failure
    ) -> common_pb2.StageResult:
        self.executor.metrics.requests.labels("failed", "").inc()
        return failed_result(request, failure, self.executor.stage.name)
