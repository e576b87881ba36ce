"""The in-process bus keeps Kafka's promises: per-key order, group offsets, redelivery."""

from __future__ import annotations

import threading
import time

import pytest

from dubset_common import topics
from dubset_common.bus import InProcBus, partition_for

T = "dubset.test.requests.v1"


def test_topic_names_follow_the_design() -> None:
    assert topics.requests("asr") == "dubset.asr.requests.v1"
    assert topics.results("asr") == "dubset.asr.results.v1"
    assert topics.dlq("asr") == "dubset.asr.dlq.v1"


def test_partition_for_is_stable_and_in_range() -> None:
    # Pinned values: crc32, not Python's per-process salted hash().
    assert partition_for(b"ep-1", 6) == 4
    assert partition_for(b"ep-2", 6) == 4
    assert partition_for(b"episode-42", 4) == 2
    assert partition_for(None, 6) == 0
    keys = [f"ep-{i}".encode() for i in range(200)]
    parts = {partition_for(k, 6) for k in keys}
    assert parts == set(range(6))  # keys spread over every partition


def test_same_key_stays_in_order_on_one_partition() -> None:
    bus = InProcBus(partitions=4)
    producer = bus.producer()
    for i in range(20):
        producer.publish(T, f"ep-{i % 3}".encode(), f"{i % 3}:{i}".encode())
    records = bus.records(T)
    for ep in range(3):
        mine = [r for r in records if r.key == f"ep-{ep}".encode()]
        assert len({r.partition for r in mine}) == 1
        assert [int(r.value.split(b":")[1]) for r in mine] == list(range(ep, 20, 3))
        assert [r.offset for r in mine] == sorted(r.offset for r in mine)


def test_consumer_sees_every_record_once() -> None:
    bus = InProcBus()
    producer = bus.producer()
    for i in range(10):
        producer.publish(T, f"k{i}".encode(), str(i).encode(), (("h", b"v"),))
    consumer = bus.consumer([T], "g")
    got = []
    while batch := consumer.poll(0, max_records=3):
        assert len(batch) <= 3
        got.extend(batch)
    assert sorted(int(r.value) for r in got) == list(range(10))
    assert all(r.headers == (("h", b"v"),) and r.topic == T for r in got)


def test_new_consumer_resumes_from_committed_offset() -> None:
    bus = InProcBus(partitions=1)
    producer = bus.producer()
    for i in range(5):
        producer.publish(T, b"ep", str(i).encode())
    first = bus.consumer([T], "g")
    taken = first.poll(0, max_records=3)
    assert [r.value for r in taken] == [b"0", b"1", b"2"]
    first.commit(taken[1])  # records 0 and 1 are done, 2 was taken but not finished
    assert bus.committed("g", T, 0) == 2
    first.close()
    second = bus.consumer([T], "g")
    assert [r.value for r in second.poll(0, max_records=10)] == [b"2", b"3", b"4"]


def test_commit_never_moves_backwards() -> None:
    bus = InProcBus(partitions=1)
    for i in range(3):
        bus.producer().publish(T, b"ep", str(i).encode())
    consumer = bus.consumer([T], "g")
    records = consumer.poll(0, max_records=3)
    consumer.commit(records[2])
    consumer.commit(records[0])
    assert bus.committed("g", T, 0) == 3
    assert bus.consumer([T], "g").poll(0) == []


def test_two_groups_are_independent() -> None:
    bus = InProcBus()
    bus.producer().publish(T, b"ep", b"x")
    a, b = bus.consumer([T], "a"), bus.consumer([T], "b")
    (ra,) = a.poll(0)
    a.commit(ra)
    (rb,) = b.poll(0)
    assert rb.value == b"x"
    assert bus.committed("b", T, ra.partition) == 0
    assert bus.consumer([T], "b").poll(0)[0].value == b"x"
    assert bus.consumer([T], "a").poll(0) == []


def test_consumer_only_sees_its_topics() -> None:
    bus = InProcBus()
    bus.producer().publish("other", b"k", b"nope")
    bus.producer().publish(T, b"k", b"yes")
    assert [r.value for r in bus.consumer([T], "g").poll(0, 10)] == [b"yes"]


def test_empty_poll_times_out_without_hanging() -> None:
    consumer = InProcBus().consumer([T], "g")
    started = time.monotonic()
    assert consumer.poll(0.05) == []
    assert 0.04 <= time.monotonic() - started < 1.0
    started = time.monotonic()
    assert consumer.poll(0) == []
    assert time.monotonic() - started < 0.5


def test_poll_wakes_up_when_a_record_arrives() -> None:
    bus = InProcBus()
    consumer = bus.consumer([T], "g")
    timer = threading.Timer(0.05, lambda: bus.producer().publish(T, b"k", b"late"))
    timer.start()
    started = time.monotonic()
    got = consumer.poll(5.0)
    timer.join()
    assert [r.value for r in got] == [b"late"]
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_record_offsets_are_dense_per_partition(partitions: int) -> None:
    bus = InProcBus(partitions=partitions)
    for i in range(30):
        bus.producer().publish(T, f"k{i}".encode(), b"v")
    for part in range(partitions):
        offsets = [r.offset for r in bus.records(T) if r.partition == part]
        assert offsets == list(range(len(offsets)))


def test_read_topic_returns_everything_without_a_group_or_commits() -> None:
    bus = InProcBus(partitions=3)
    producer = bus.producer()
    for i in range(6):
        producer.publish(T, f"k{i}".encode(), f"v{i}".encode())
    records = bus.read_topic(T)
    assert sorted(r.value for r in records) == [f"v{i}".encode() for i in range(6)]
    assert records == sorted(records, key=lambda r: (r.partition, r.offset))
    assert bus.read_topic("dubset.none.v1") == []
    consumer = bus.consumer([T], "g")
    assert len(consumer.poll(0, max_records=10)) == 6  # reading moved no group's offsets


def test_prefixed_topic_names() -> None:
    assert topics.ingest("t.") == "t.dubset.ingest.v1"
    assert topics.jobs_state() == "dubset.jobs.state.v1"
    assert topics.progress("p.") == "p.dubset.progress.v1"


def test_a_none_value_is_a_tombstone_read_back_empty() -> None:
    bus = InProcBus(partitions=2)
    producer = bus.producer()
    producer.publish(T, b"job-1", b"state")
    producer.publish(T, b"job-1", None)
    assert [(r.key, r.value) for r in bus.read_topic(T)] == [(b"job-1", b"state"), (b"job-1", b"")]
