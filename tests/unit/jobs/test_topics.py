"""The topics plan: every topic the pipeline uses, created or grown, never shrunk."""

from __future__ import annotations

import pytest

from dubset_common import topics
from dubset_jobs.core import dag
from dubset_jobs.topics import TopicSpec, all_topics, plan


def test_every_stage_has_requests_results_and_a_dlq() -> None:
    names = {t.name for t in all_topics("p.")}
    for stage in dag.STAGES:
        for topic in (topics.requests, topics.results, topics.dlq):
            assert topic(stage, "p.") in names
    assert {topics.ingest("p."), topics.dlq("ingest", "p."), topics.progress("p.")} <= names
    compacted = [t.name for t in all_topics("p.") if t.compacted]
    assert compacted == [topics.jobs_state("p.")]
    assert all(n.startswith("p.dubset.") for n in names)
    assert len(names) == len(all_topics("p."))


def test_plan_creates_missing_grows_smaller_and_keeps_larger() -> None:
    wanted = [TopicSpec("a"), TopicSpec("b"), TopicSpec("c"), TopicSpec("s", compacted=True)]
    todo = plan(wanted, {"b": 2, "c": 16}, partitions=8)
    assert [t.name for t in todo.create] == ["a", "s"]
    assert todo.grow == {"b": 8}
    assert todo.keep == {"c": 16}
    assert plan(wanted, {"a": 8, "b": 8, "c": 8, "s": 8}, 8).create == []


def test_cli_refuses_bad_counts_and_an_unreachable_broker(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dubset_jobs.topics import main

    monkeypatch.setenv("DUBSET_KAFKA_BOOTSTRAP", "127.0.0.1:9")
    assert main(["--partitions", "-1"]) == 1
    assert "--partitions and --replication-factor must be >= 1" in capsys.readouterr().err
    monkeypatch.setenv("DUBSET_KAFKA_PARTITIONS", "0")
    assert main([]) == 1
    assert "DUBSET_KAFKA_PARTITIONS" in capsys.readouterr().err
    monkeypatch.delenv("DUBSET_KAFKA_PARTITIONS")
    assert main(["--dry-run", "--connect-timeout-s", "2"]) == 1
    assert "Kafka unreachable at 127.0.0.1:9" in capsys.readouterr().err
