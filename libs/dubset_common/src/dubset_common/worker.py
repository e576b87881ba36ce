"""The stage worker loop: consume requests, execute, publish the result, then commit."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from dubset.v1 import common_pb2
from dubset_common import topics
from dubset_common.bus import Bus, Consumer, Producer, Record
from dubset_common.errors import DubsetError, TransientError
from dubset_common.logs import log_context
from dubset_common.runner import StageExecutor

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0
# A dead letter or failed result must always fit in a Kafka message (1 MiB by default).
MAX_LETTER_VALUE_BYTES = 512 * 1024
MAX_LETTER_KEY_BYTES = 1024
MAX_ERROR_CHARS = 4096


@dataclass(frozen=True)
class Failure:
    code: str
    message: str
    attempts: int


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
    ) -> None:
        stage = executor.stage.name
        self.executor = executor
        self.bus = bus
        self.group = group or f"{topic_prefix}dubset-{stage}"
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.poll_timeout_s = poll_timeout_s
        self.requests_topic = topics.requests(stage, topic_prefix)
        self.results_topic = topics.results(stage, topic_prefix)
        self.dlq_topic = topics.dlq(stage, topic_prefix)
        self.stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{stage}-work")

    def run(self) -> None:
        """Loop until stop is set; the message in hand is finished and committed first."""
        self.bus.ensure_topics([self.requests_topic, self.results_topic, self.dlq_topic])
        consumer = self.bus.consumer([self.requests_topic], self.group)
        producer = self.bus.producer()
        log.info("worker consuming %s as %s", self.requests_topic, self.group)
        try:
            while not self.stop.is_set():
                try:
                    records = consumer.poll(self.poll_timeout_s, max_records=1)
                except TransientError as exc:
                    log.warning("poll failed, retrying: %s", exc)
                    self.stop.wait(self.backoff_s)
                    continue
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

    def handle(self, record: Record, consumer: Consumer, producer: Producer) -> None:
        """Process one record fully, then commit it. Returns without committing only on stop."""
        request = _parse(record.value)
        if request is None:
            failure = Failure("INVALID_INPUT", "message is not a StageRequest", 0)
            if self._deliver(producer, self._dead_letter(record, failure), consumer):
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
            outcome = self._attempts(request, consumer)
            if outcome is None:
                return  # stopping mid-retry: left uncommitted, so it is redelivered
            messages: list[tuple[str, bytes | None, bytes]] = []
            if isinstance(outcome, Failure):
                log.error("request failed: %s: %s", outcome.code, outcome.message)
                messages.append(self._dead_letter(record, outcome))
                outcome = self._failed_result(request, outcome)
            messages.append((self.results_topic, record.key, outcome.SerializeToString()))
            if all(self._deliver(producer, m, consumer) for m in messages):
                consumer.commit(record)

    def _attempts(
        self, request: common_pb2.StageRequest, consumer: Consumer
    ) -> common_pb2.StageResult | Failure | None:
        """The result, a Failure to report, or None when stop came during a retry backoff."""
        attempt = 0
        while True:
            attempt += 1
            try:
                result = self._run_keeping_alive(request, consumer)
                result.attempts = attempt
                result.finished_unix_ms = int(time.time() * 1000)
                return result
            except DubsetError as exc:
                if not exc.retryable or attempt >= self.max_attempts:
                    return Failure(exc.code, str(exc), attempt)
                log.warning("attempt %d failed, retrying: %s", attempt, exc)
            except Exception as exc:  # a bug or an unknown library failure: retry, then DLQ
                log.exception("attempt %d crashed", attempt)
                if attempt >= self.max_attempts:
                    return Failure("INTERNAL", f"{type(exc).__name__}: {exc}", attempt)
            self.executor.metrics.retries.inc()
            if self._pause(consumer, self.backoff_s * 2 ** (attempt - 1)):
                return None

    def _run_keeping_alive(
        self, request: common_pb2.StageRequest, consumer: Consumer
    ) -> common_pb2.StageResult:
        # Run in a copy of this context so the work's log lines keep job_id, episode_id, stage.
        context = contextvars.copy_context()
        future: Future[common_pb2.StageResult] = self._pool.submit(
            context.run, self.executor.execute, request
        )
        while True:
            try:
                return future.result(timeout=self.poll_timeout_s)
            except TimeoutError:
                consumer.keepalive()

    def _pause(self, consumer: Consumer, seconds: float) -> bool:
        """Wait up to MAX_BACKOFF_S while staying in the group; True when stop came."""
        deadline = time.monotonic() + min(seconds, MAX_BACKOFF_S)
        while (left := deadline - time.monotonic()) > 0:
            if self.stop.wait(min(left, self.poll_timeout_s)):
                return True
            consumer.keepalive()
        return self.stop.is_set()

    def _deliver(
        self, producer: Producer, message: tuple[str, bytes | None, bytes], consumer: Consumer
    ) -> bool:
        """Publish until durable; give up only when asked to stop (the record is redelivered)."""
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
            finished_unix_ms=int(time.time() * 1000),
        )


def _parse(value: bytes) -> common_pb2.StageRequest | None:
    """The request in a record's value, or None when it is not a StageRequest."""
    request = common_pb2.StageRequest()
    try:
        request.ParseFromString(value)
    except DecodeError:
        return None
    return request if request.request_id else None
