"""The plain values of a job: media references, what was submitted, task and job state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from dubset_common.timemap import TimeMap


@dataclass(frozen=True)
class Ref:
    """A MediaRef as plain values."""

    uri: str
    sha256: str = ""
    size_bytes: int = 0
    mime: str = ""
    duration_ms: int = 0


class JobPhase(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


TERMINAL = frozenset({JobPhase.SUCCEEDED, JobPhase.FAILED, JobPhase.CANCELLED})


class TaskPhase(StrEnum):
    PENDING = "PENDING"  # not sent yet, or waiting out a retry backoff (tries > 0)
    RUNNING = "RUNNING"  # request sent, no result yet
    DONE = "DONE"
    FAILED = "FAILED"


@dataclass(frozen=True)
class JobSpec:
    """What a validated submission asks for, as the DAG needs it."""

    episode_id: str
    episode_number: str  # the Anim-400K episodes-map key
    ja: Ref
    en: Ref
    show: Mapping[str, object]  # normalized show, no "episodes"
    episode: Mapping[str, object]  # normalized episode info
    dataset: str = "default"
    # Per stage noun: params fields (proto JSON names) the submission overrides.
    overrides: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    run_tts: bool = True  # the job has the tts task (JobOptions.run_tts unset or true)
    run_faces: bool = True  # the job has the faces task (JobOptions.run_faces unset or true)
    run_quality: bool = True  # the job has the quality task (JobOptions.run_quality unset or true)
    flaps: bool = False  # a dub timed to the mouth flaps (JobOptions.run_faces true on a dub)
    # Per language: a subtitle file whose text is the transcript (absent: the recogniser's);
    # in a dub job the English one is the translation.
    subtitles: Mapping[str, Ref] = field(default_factory=dict)
    kind: str = "dataset"  # "dataset" or "dub" (core/dag.py KINDS)


@dataclass(frozen=True)
class TaskState:
    name: str
    phase: TaskPhase = TaskPhase.PENDING
    tries: int = 0
    request_id: str = ""  # the current request; only its results count
    sent_ms: int = 0
    due_ms: int = 0  # RUNNING: when it times out; PENDING after a failure: when to re-send
    outputs: Mapping[str, Ref] = field(default_factory=dict)
    backend: str = ""
    reused: bool = False
    started_ms: int = 0
    finished_ms: int = 0
    received_ms: int = 0
    error_code: str = ""
    message: str = ""
    fraction: float = 0.0


@dataclass(frozen=True)
class Job:
    job_id: str
    spec: JobSpec
    tasks: tuple[TaskState, ...]
    phase: JobPhase = JobPhase.PENDING
    attempt: int = 1
    revision: int = 0
    created_ms: int = 0
    updated_ms: int = 0
    error_stage: str = ""
    error_code: str = ""
    error_reason: str = ""
    ja_offset_ms: int | None = None  # from the media task's result
    time_map: TimeMap | None = None  # from the media task's result, when more than an offset
    episode_doc: Ref | None = None  # the packaging input, once written

    def task(self, name: str) -> TaskState:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL

    def outputs(self) -> dict[str, Ref]:
        """Each done task's outputs keyed "<task>/<output>", plus "episode" when packaged."""
        out = {f"{t.name}/{n}": r for t in self.tasks for n, r in sorted(t.outputs.items())}
        if self.episode_doc is not None:
            out["jobs/episode_document"] = self.episode_doc
        if "packaging/episode" in out:
            out["episode"] = out["packaging/episode"]
        return out
