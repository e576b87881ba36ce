"""bench/timing.py: handoff, queueing and transport of stage tasks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

from timing import (
    Task,
    cpu_ticks,
    cpu_use,
    critical_path,
    handoffs,
    percentile,
    queued_ms,
    summary,
    union_ms,
)


def task(name: str, sent: int, started: int, finished: int, received: int) -> Task:
    return Task("job", name, sent, started, finished, received)


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 99) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(range(101), 99) == 99
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary() -> None:
    assert summary([]) == {"n": 0, "p50": None, "p99": None, "mean": None, "max": None}
    s = summary([1.0, 2.0, 3.0])
    assert s["n"] == 3 and s["p50"] == 2.0 and s["mean"] == 2.0 and s["max"] == 3.0


def test_union_of_overlapping_and_disjoint_intervals() -> None:
    assert union_ms([]) == 0
    assert union_ms([(0, 10), (5, 15), (20, 30), (22, 25), (40, 40)]) == 25


def test_handoff_is_round_trip_minus_compute() -> None:
    t = task("asr.ja", 1000, 1100, 2100, 2150)
    assert t.stage == "asr" and t.compute_ms == 1000 and t.handoff_ms == 150
    assert t.complete
    assert not task("asr.ja", 1000, 0, 0, 1200).complete  # answered from finished work


def test_waiting_behind_the_only_worker_is_queueing_not_transport() -> None:
    first = task("asr.ja", 5000, 5010, 6000, 6020)
    second = task("asr.en", 5000, 6010, 7000, 7030)  # sent at once; waits for asr.ja to finish
    assert queued_ms(second, [first, second], 1) == 990
    split = handoffs([first, second], 1)
    assert split["handoff_s"] == [0.03, 1.04]
    assert split["queued_s"] == [0.0, 0.99]
    assert split["transport_s"] == [0.03, 0.05]
    # With two workers the stage had one free: the same wait counts as transport.
    assert queued_ms(second, [first, second], 2) == 0
    # Another stage's work never makes a task queued.
    other = task("tts", 5000, 5010, 6000, 6020)
    assert queued_ms(second, [other, second], 1) == 0
    with pytest.raises(ValueError):
        queued_ms(second, [first], 0)


def test_with_a_worker_per_partition_a_task_queues_behind_its_partition() -> None:
    a = Task("job-a", "tts", 5000, 5010, 9000, 9010)
    b = Task("job-b", "tts", 5000, 9010, 12000, 12010)  # same partition as a: waits for it
    c = Task("job-c", "tts", 5000, 5020, 8000, 8010)  # the other partition's worker
    owners = {"job-a": 0, "job-b": 0, "job-c": 1}
    assert queued_ms(b, [a, b, c], 2) == 2980  # stage-wide: both workers busy until 8000
    assert queued_ms(b, [a, b, c], 2, owners) == 3990  # its partition's worker busy until 9000
    assert handoffs([a, b, c], 2, owners)["transport_s"] == [0.02, 0.03, 0.03]


def test_critical_path_follows_the_need_that_came_back_last() -> None:
    needs = {"separation": ["media"], "asr.ja": ["separation"], "asr.en": ["separation"],
             "alignment": ["asr.ja", "asr.en"], "faces": ["alignment"],
             "quality": ["alignment"]}  # fmt: skip
    tasks = [
        task("media", 1, 1, 100, 110),
        task("separation", 110, 110, 200, 200),
        task("asr.ja", 200, 200, 700, 700),
        task("asr.en", 200, 700, 1000, 1010),  # queued behind asr.ja: waited 500 ms
        task("alignment", 1010, 1010, 1020, 1020),
        task("faces", 1020, 1020, 3000, 3000),
        task("quality", 1020, 1020, 2500, 2500),
        task("reused", 0, 0, 0, 0),  # answered from finished work: no timings, left out
    ]
    path = critical_path(tasks, needs)
    assert [p["task"] for p in path] == ["media", "separation", "asr.en", "alignment", "faces"]
    assert path[2] == {"task": "asr.en", "compute_s": 0.3, "wait_s": 0.5, "return_s": 0.01}
    assert critical_path([], needs) == []


STAT = """cpu  100 20 30 400 50 5 5 0 7 0
cpu0 50 10 15 200 25 2 3 0 0 0
intr 12345
"""


def test_cpu_ticks_reads_the_all_cpu_line() -> None:
    # busy: user + nice + system + irq + softirq + steal; idle + iowait are not busy
    assert cpu_ticks(STAT) == (160, 610)
    assert cpu_ticks("cpu  1 2 3 4\n") == (6, 10)  # an old kernel's four fields
    assert cpu_ticks("intr 1\n") is None


def test_cpu_use_over_a_run() -> None:
    use = cpu_use((1000, 5000), (1000 + 300 * 100, 5000 + 400 * 100), 100.0, 2, 200.0)
    assert use == {"busy_core_s": 300.0, "busy_share": 0.75, "cpu_bound_wall_s": 150.0}
    assert cpu_use(None, (1, 2), 100.0, 2, 10.0) is None
    assert cpu_use((1, 2), (3, 4), 100.0, 2, 0.0) is None
