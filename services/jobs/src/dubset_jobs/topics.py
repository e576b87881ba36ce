"""Create every dubset topic, and grow partitions to the wanted count (the chart's topics Job).

    python -m dubset_jobs.topics [--partitions N] [--replication-factor R] [--dry-run]

Defaults come from DUBSET_KAFKA_PARTITIONS / DUBSET_KAFKA_REPLICATION_FACTOR and the topic prefix
from DUBSET_TOPIC_PREFIX. Existing topics keep their replication factor; one with fewer
partitions than wanted is grown (Kafka cannot shrink a topic, so one with more is left alone).
A consumer group uses at most one consumer per partition, so the partition count of a stage's
request topic caps how many of its workers do work.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import dataclass

from dubset_common import topics
from dubset_common.config import load_settings
from dubset_common.errors import ConfigError, TransientError
from dubset_common.wiring import kafka_security
from dubset_jobs.core import dag


@dataclass(frozen=True)
class TopicSpec:
    name: str
    compacted: bool = False


def all_topics(prefix: str = "") -> list[TopicSpec]:
    """Every topic the pipeline uses: per stage requests, results and DLQ; ingest and its DLQ,
    progress; the compacted job-state topic."""
    names = [topics.ingest(prefix), topics.dlq("ingest", prefix), topics.progress(prefix)]
    for stage in dag.STAGES:
        names += [topics.requests(stage, prefix), topics.results(stage, prefix)]
        names.append(topics.dlq(stage, prefix))
    return [TopicSpec(n) for n in names] + [TopicSpec(topics.jobs_state(prefix), compacted=True)]


@dataclass(frozen=True)
class Plan:
    create: list[TopicSpec]
    grow: dict[str, int]  # name -> the partition count it is grown to
    keep: dict[str, int]  # name -> its partition count (already enough)


def plan(wanted: list[TopicSpec], existing: dict[str, int], partitions: int) -> Plan:
    """What to do, given each existing topic's partition count."""
    create = [t for t in wanted if t.name not in existing]
    grow = {t.name: partitions for t in wanted if 0 < existing.get(t.name, 0) < partitions}
    keep = {
        t.name: existing[t.name]
        for t in wanted
        if t.name in existing and existing[t.name] >= partitions
    }
    return Plan(create, grow, keep)


def _existing(admin: object, names: list[str]) -> dict[str, int]:
    listed = set(admin.list_topics())  # type: ignore[attr-defined]
    present = [n for n in names if n in listed]
    if not present:
        return {}
    described = admin.describe_topics(present)  # type: ignore[attr-defined]
    return {d.get("name") or d["topic"]: len(d["partitions"]) for d in described}


def apply(
    bootstrap: str,
    client_id: str,
    todo: Plan,
    partitions: int,
    replication: int,
    security: dict[str, str] | None = None,
) -> None:
    from kafka.admin import KafkaAdminClient, NewPartitions, NewTopic
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=client_id, **(security or {}))
    try:
        if todo.create:
            new = [
                NewTopic(
                    t.name,
                    partitions,
                    replication,
                    topic_configs={"cleanup.policy": "compact"} if t.compacted else {},
                )
                for t in todo.create
            ]
            with contextlib.suppress(TopicAlreadyExistsError):  # another run was first
                admin.create_topics(new)
        if todo.grow:
            admin.create_partitions({n: NewPartitions(c) for n, c in todo.grow.items()})
    except KafkaError as exc:
        raise TransientError(f"Kafka refused the topic changes: {exc}") from exc
    finally:
        admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dubset_jobs.topics", description=__doc__)
    parser.add_argument(
        "--partitions", type=int, default=0, help="default: DUBSET_KAFKA_PARTITIONS"
    )
    parser.add_argument("--replication-factor", type=int, default=0)
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    parser.add_argument("--connect-timeout-s", type=float, default=30.0, help="to reach Kafka")
    args = parser.parse_args(argv)
    try:
        settings = load_settings("jobs")
        if not settings.kafka_bootstrap:
            raise ConfigError("DUBSET_KAFKA_BOOTSTRAP is required")
        partitions = args.partitions or settings.kafka_partitions
        replication = args.replication_factor or settings.kafka_replication_factor
        if partitions < 1 or replication < 1:
            raise ConfigError("--partitions and --replication-factor must be >= 1")
        wanted = all_topics(settings.topic_prefix)
        from kafka.admin import KafkaAdminClient
        from kafka.errors import KafkaError

        try:
            admin = KafkaAdminClient(
                bootstrap_servers=settings.kafka_bootstrap,
                client_id=settings.kafka_client_id,
                bootstrap_timeout_ms=int(args.connect_timeout_s * 1000),
                **kafka_security(settings).client_kwargs(),
            )
        except KafkaError as exc:
            raise TransientError(f"Kafka unreachable at {settings.kafka_bootstrap}: {exc}") from exc
        try:
            todo = plan(wanted, _existing(admin, [t.name for t in wanted]), partitions)
        finally:
            admin.close()
        for t in todo.create:
            print(f"create  {t.name} ({partitions} partitions, replication {replication})")
        for name, count in todo.grow.items():
            print(f"grow    {name} to {count} partitions")
        for name, count in todo.keep.items():
            print(f"keep    {name} ({count} partitions)")
        if not args.dry_run:
            security = kafka_security(settings).client_kwargs()
            apply(
                settings.kafka_bootstrap,
                settings.kafka_client_id,
                todo,
                partitions,
                replication,
                security,
            )
    except (ConfigError, TransientError) as exc:
        print(f"dubset_jobs.topics: {exc}", file=sys.stderr)
        return 1
    print(f"topics: {len(todo.create)} created, {len(todo.grow)} grown, {len(todo.keep)} kept")
    return 0


if __name__ == "__main__":
    sys.exit(main())
