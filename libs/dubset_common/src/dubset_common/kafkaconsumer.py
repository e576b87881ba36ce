"""The Kafka consumer behind the bus: manual commits, keepalive for long work, and a check
of its group membership that repairs what kafka-python does not (a member that lost its
session for good, or holds no partition of a topic after a rebalance on failed metadata)."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from dubset_common.bus import Record
from dubset_common.errors import TransientError

if TYPE_CHECKING:
    from dubset_common.kafkabus import KafkaOptions

log = logging.getLogger(__name__)

# How often a consumer checks its group membership, how long it waits between rejoins it
# forces, and how long it polls without a session before it is replaced (_check_group).
COVERAGE_CHECK_S = 20.0
REJOIN_BACKOFF_S = 300.0
SESSION_LOST_RENEW_S = 60.0  # polling this long without a group session: a new consumer


class KafkaConsumerAdapter:
    """Manual commits only; keepalive() pauses the assignment so long work keeps membership."""

    def __init__(self, options: KafkaOptions, topics: list[str], group: str) -> None:
        self._options, self._topics, self._group = options, list(topics), group
        self._consumer: Any = self._connect()
        self._paused = False
        self._next_check = time.monotonic() + COVERAGE_CHECK_S
        self._next_rejoin = 0.0
        self._uncovered: list[str] = []
        self._no_session_since: float | None = None

    def _connect(self) -> Any:
        from kafka import KafkaConsumer
        from kafka.errors import KafkaError

        options = self._options
        try:
            return KafkaConsumer(
                *self._topics,
                bootstrap_servers=options.bootstrap,
                client_id=options.client_id,
                **options.security.client_kwargs(),
                group_id=self._group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                session_timeout_ms=options.session_timeout_ms,
                heartbeat_interval_ms=options.heartbeat_interval_ms,
                max_poll_interval_ms=options.max_poll_interval_ms,
                fetch_max_wait_ms=options.fetch_max_wait_ms,
                fetch_max_bytes=max(options.max_message_bytes * 4, 4 * 1_048_576),
            )
        except KafkaError as exc:
            raise TransientError(f"Kafka unreachable at {options.bootstrap}: {exc}") from exc

    def poll(self, timeout_s: float, max_records: int = 1) -> list[Record]:
        from kafka.errors import KafkaError

        if self._consumer is None:  # replaced (_renew) but the new one could not connect
            self._consumer = self._connect()
        if self._paused:
            self._consumer.resume(*self._consumer.paused())
            self._paused = False
        try:
            batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
            self._check_group()
        except KafkaError as exc:
            raise TransientError(f"Kafka poll failed: {exc}") from exc
        out = [
            Record(r.topic, r.partition, r.offset, r.key, r.value or b"", tuple(r.headers or ()))
            for records in batches.values()
            for r in records
        ]
        return sorted(out, key=lambda r: (r.topic, r.partition, r.offset))

    def _check_group(self) -> None:
        """Every COVERAGE_CHECK_S: a consumer that has polled without a group session for
        SESSION_LOST_RENEW_S is replaced (kafka-python can stay coordinator-less after the
        broker restarts under a join: polling, never joining again); one with a session is
        checked for the topics its assignment lacks (_check_coverage)."""
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + COVERAGE_CHECK_S
        if self.has_session():
            self._no_session_since = None
            self._check_coverage(now)
            return
        self._uncovered = []  # mid-rebalance or an outage: nothing to judge yet
        if self._no_session_since is None:
            self._no_session_since = now
        elif now - self._no_session_since >= SESSION_LOST_RENEW_S:
            log.warning(
                "no group session for %.0f s while polling: replacing the consumer",
                now - self._no_session_since,
            )
            self._no_session_since = now
            self._renew()

    def _renew(self) -> None:
        """A new consumer in the group (nothing committed is lost: uncommitted records come
        again, and every handler takes a record twice without harm)."""
        old, self._consumer, self._paused = self._consumer, None, False
        with contextlib.suppress(Exception):
            old.close(autocommit=False)
        self._consumer = self._connect()

    def _check_coverage(self, now: float) -> None:
        """Rejoin the group when this member holds no partition of a subscribed topic that the
        broker has partitions of, twice COVERAGE_CHECK_S apart.

        kafka-python assigns only the partitions its metadata knew at the rebalance: when the
        leader's metadata request failed for some topics then (a broker restarting under it),
        nobody consumes those topics until the next rebalance, which nothing else triggers. A
        member holds a partition of each topic whenever members <= partitions (enforced for
        worker replicas); with more members than partitions the spare ones would rejoin in
        vain, so a forced rejoin waits REJOIN_BACKOFF_S after the last one."""
        topics = sorted(self._consumer.subscription() or ())
        held = {tp.topic for tp in self._consumer.assignment()}
        missing = [t for t in topics if t not in held and self._consumer.partitions_for_topic(t)]
        seen, self._uncovered = self._uncovered, missing
        if not missing or missing != seen or now < self._next_rejoin:
            return
        log.warning(
            "no partition of %s is assigned to this consumer though the broker has them (its "
            "metadata failed at the last rebalance?): rejoining the group",
            ", ".join(missing),
        )
        self._next_rejoin = now + REJOIN_BACKOFF_S
        self._uncovered = []
        self._consumer.unsubscribe()
        self._consumer.subscribe(topics)

    def keepalive(self) -> None:
        """Poll with everything paused; anything fetched after a rebalance is rewound, not lost."""
        from kafka.errors import KafkaError

        if self._consumer is None:
            return
        assigned = self._consumer.assignment()
        if assigned:
            self._consumer.pause(*assigned)
            self._paused = True
        try:
            batches = self._consumer.poll(timeout_ms=200, max_records=1)
        except (KafkaError, OSError) as exc:
            log.warning("keepalive poll failed: %s", exc)
            return
        for tp, records in batches.items():
            self._consumer.seek(tp, min(r.offset for r in records))
            self._consumer.pause(tp)

    def has_session(self) -> bool:
        """Joined (the group is stable) and the group coordinator known and connected."""
        from kafka.structs import MemberState

        try:
            if self._consumer.group_metadata().state != MemberState.STABLE:
                return False
            # A broker outage leaves the member "stable" with no coordinator; kafka-python has
            # no public accessor for that, so its coordinator is asked when it has one.
            coordinator = getattr(self._consumer, "_coordinator", None)
            return coordinator is None or not coordinator.coordinator_unknown()
        except Exception as exc:  # a health check must never break the loop
            log.warning("cannot tell the group session: %s", exc)
            return False

    def commit(self, record: Record) -> None:
        from kafka.errors import CommitFailedError, KafkaError, RebalanceInProgressError
        from kafka.structs import OffsetAndMetadata, TopicPartition

        if self._consumer is None:
            raise TransientError("commit failed: the consumer is being replaced")
        offsets = {
            TopicPartition(record.topic, record.partition): OffsetAndMetadata(
                record.offset + 1, "", -1
            )
        }
        try:
            self._consumer.commit(offsets)
        except (CommitFailedError, RebalanceInProgressError) as exc:
            # Rebalanced away: the next owner redelivers and the stage skips finished work.
            log.warning(
                "commit of %s:%d@%d lost to a rebalance: %s",
                record.topic,
                record.partition,
                record.offset,
                exc,
            )
        except KafkaError as exc:
            raise TransientError(f"commit failed: {exc}") from exc

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close(autocommit=False)
