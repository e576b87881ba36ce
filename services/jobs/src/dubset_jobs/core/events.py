"""The state machine's vocabulary: its policy, the events it takes and the actions it asks for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dubset_common.timemap import TimeMap
from dubset_jobs.core.model import Job, Ref


@dataclass(frozen=True)
class Policy:
    stage_timeout_ms: int = 3_600_000
    max_tries: int = 3
    backoff_ms: int = 5_000
    topic_prefix: str = ""


# Events
@dataclass(frozen=True)
class StageAnswer:
    """A StageResult as plain values."""

    request_id: str
    ok: bool
    outputs: Mapping[str, Ref] = field(default_factory=dict)
    backend: str = ""
    reused: bool = False
    error_code: str = ""
    error_message: str = ""
    started_ms: int = 0
    finished_ms: int = 0
    ja_offset_ms: int | None = None  # the media task's measured offset (its result's facts)
    time_map: TimeMap | None = None  # the media task's map, when more than an offset


@dataclass(frozen=True)
class Tick:
    """Time passed: time out requests, send the ones whose backoff is over."""


@dataclass(frozen=True)
class Cancel:
    reason: str = ""


@dataclass(frozen=True)
class Retry:
    pass


@dataclass(frozen=True)
class DocWritten:
    ref: Ref


@dataclass(frozen=True)
class Progress:
    """A worker's progress on a request: changes the job in memory, not its revision."""

    request_id: str
    fraction: float
    message: str


@dataclass(frozen=True)
class Abort:
    """The jobs service itself failed on this job (a bug, contained to this job)."""

    reason: str


Event = StageAnswer | Tick | Cancel | Retry | DocWritten | Progress | Abort


# Actions
@dataclass(frozen=True)
class Send:
    task: str
    stage: str
    request_id: str
    tries: int
    inputs: Mapping[str, Ref]
    params: Mapping[str, object]


@dataclass(frozen=True)
class WriteDoc:
    doc: Mapping[str, object]


Action = Send | WriteDoc
Step = tuple[Job, tuple[Action, ...]]
