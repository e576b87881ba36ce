"""Pure timing arithmetic shared by pipeline_bench.py and report.py (standard library only).

A task is one stage request of one job, with the four timestamps the jobs service records
(JobStatus.stages): sent (request published), started and finished (the worker's compute), and
received (the result back at the jobs service), in milliseconds. Then, per task:

    handoff    (received - sent) - (finished - started): the request's way to a worker, its
               wait in the topic, and the result's way back
    queued     the part of the wait before `started` during which every replica of the stage
               was computing another task: queueing, not transport
    transport  handoff - queued
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    job: str
    name: str  # e.g. "asr.ja"
    sent_ms: int
    started_ms: int
    finished_ms: int
    received_ms: int

    @property
    def stage(self) -> str:
        """The stage whose workers run it: "asr" for "asr.ja"."""
        return self.name.split(".", 1)[0]

    @property
    def compute_ms(self) -> int:
        return self.finished_ms - self.started_ms

    @property
    def handoff_ms(self) -> int:
        return (self.received_ms - self.sent_ms) - self.compute_ms

    @property
    def complete(self) -> bool:
        """All four timestamps set and in order (a task answered from finished work, or never
        run, lacks some)."""
        stamps = (self.sent_ms, self.started_ms, self.finished_ms, self.received_ms)
        return (
            all(t > 0 for t in stamps)
            and self.started_ms <= self.finished_ms
            and self.sent_ms <= self.received_ms
        )


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation between closest ranks (numpy's
    default); None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = q / 100 * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float], digits: int = 3) -> dict[str, float | int | None]:
    """n, p50, p99, mean and max of values (seconds)."""

    def r(x: float | None) -> float | None:
        return None if x is None else round(x, digits)

    return {
        "n": len(values),
        "p50": r(percentile(values, 50)),
        "p99": r(percentile(values, 99)),
        "mean": r(sum(values) / len(values)) if values else None,
        "max": r(max(values)) if values else None,
    }


def union_ms(intervals: Iterable[tuple[int, int]]) -> int:
    """Total length of the union of [begin, end) intervals."""
    total, reach = 0, None
    for begin, end in sorted(intervals):
        if end <= begin:
            continue
        if reach is None or begin >= reach:
            total += end - begin
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def queued_ms(
    task: Task, tasks: Sequence[Task], replicas: int, partition: Mapping[str, int] | None = None
) -> int:
    """How long, between being sent and starting, `task` waited while at least `replicas`
    other tasks of its stage were computing (every worker of the stage busy).

    With `partition` (job -> topic partition) each worker owns one partition: the task waited
    while another task of its stage and partition was computing, whatever the other workers
    did (a request waits behind the one before it on its partition)."""
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    window = (task.sent_ms, task.started_ms)
    if window[1] <= window[0]:
        return 0
    if partition is not None:
        replicas = 1
    events: list[tuple[int, int]] = []
    for other in tasks:
        if other is task or other.stage != task.stage or not other.complete:
            continue
        if partition is not None and partition.get(other.job) != partition.get(task.job):
            continue
        begin, end = max(other.started_ms, window[0]), min(other.finished_ms, window[1])
        if end > begin:
            events += [(begin, 1), (end, -1)]
    busy, at, queued = 0, window[0], 0
    for when, step in sorted(events):
        if busy >= replicas:
            queued += when - at
        busy += step
        at = when
    return queued


def handoffs(
    tasks: Sequence[Task], replicas: int, partition: Mapping[str, int] | None = None
) -> dict[str, list[float]]:
    """Per complete task, in seconds: handoff, queued and transport (handoff - queued); see
    queued_ms for `partition`."""
    done = [t for t in tasks if t.complete]
    out: dict[str, list[float]] = {"handoff_s": [], "queued_s": [], "transport_s": []}
    for task in done:
        handoff = task.handoff_ms / 1000
        queued = min(queued_ms(task, done, replicas, partition) / 1000, max(handoff, 0.0))
        out["handoff_s"].append(round(handoff, 3))
        out["queued_s"].append(round(queued, 3))
        out["transport_s"].append(round(handoff - queued, 3))
    return out


def critical_path(
    tasks: Sequence[Task], needs: Mapping[str, Sequence[str]]
) -> list[dict[str, object]]:
    """The chain of tasks that decided the job's end, first to last: from the task whose result
    came back last, each step back to the need whose result came back last before it was sent
    (what it waited for). Per task: its compute seconds, and its wait (sent to started: the bus
    and the queue behind other work) and return (finished to received) in seconds."""
    done = {t.name: t for t in tasks if t.complete}
    if not done:
        return []
    step: Task | None = max(done.values(), key=lambda t: (t.received_ms, t.name))
    chain: list[Task] = []
    while step is not None:
        chain.append(step)
        before = [done[n] for n in needs.get(step.name, ()) if n in done]
        step = max(before, key=lambda t: (t.received_ms, t.name)) if before else None
    return [
        {
            "task": t.name,
            "compute_s": round(t.compute_ms / 1000, 2),
            "wait_s": round((t.started_ms - t.sent_ms) / 1000, 2),
            "return_s": round((t.received_ms - t.finished_ms) / 1000, 2),
        }
        for t in reversed(chain)
    ]


# /proc/stat's "cpu" line: user nice system idle iowait irq softirq steal (guest time is
# already inside user and nice). Busy is everything but idle and iowait.
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)
_IDLE_FIELDS = (3, 4)


def cpu_ticks(stat_text: str) -> tuple[int, int] | None:
    """(busy, total) clock ticks of the machine's all-CPU line of /proc/stat, or None."""
    for line in stat_text.splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu":
            values = [int(v) for v in parts[1:9]] + [0] * max(0, 9 - len(parts))
            busy = sum(values[i] for i in _BUSY_FIELDS)
            return busy, busy + sum(values[i] for i in _IDLE_FIELDS)
    return None


def cpu_use(
    before: tuple[int, int] | None,
    after: tuple[int, int] | None,
    ticks_per_s: float,
    cpus: int,
    wall_s: float,
) -> dict[str, float] | None:
    """The whole machine's CPU over a run: busy core-seconds, the share of its cores' time that
    was busy, and the wall time the run would take if every core were busy throughout
    (busy / cpus: the floor no scheduling can beat without less work)."""
    if before is None or after is None or wall_s <= 0 or cpus <= 0 or ticks_per_s <= 0:
        return None
    busy_s = (after[0] - before[0]) / ticks_per_s
    return {
        "busy_core_s": round(busy_s, 1),
        "busy_share": round(busy_s / (wall_s * cpus), 3),
        "cpu_bound_wall_s": round(busy_s / cpus, 1),
    }
