"""The job state machine on plain values: events in, the new job and actions out."""

from __future__ import annotations

from dataclasses import replace

from dubset_common import topics
from dubset_common.errors import InvalidInputError
from dubset_jobs.core import dag
from dubset_jobs.core.events import (
    Abort,
    Action,
    Cancel,
    DocWritten,
    Event,
    Policy,
    Progress,
    Retry,
    Send,
    StageAnswer,
    Step,
    Tick,
    WriteDoc,
)
from dubset_jobs.core.ids import request_id_for
from dubset_jobs.core.model import Job, JobPhase, JobSpec, TaskPhase, TaskState

RETRYABLE = frozenset({"UNAVAILABLE", "INTERNAL", ""})
_HINTS = {
    "INVALID_INPUT": "check the files and options you submitted",
    "NOT_FOUND": "an input is missing from the object store; check the files you submitted",
    "INTEGRITY": "an input changed after it was submitted; submit the episode again",
    "CRASHED": "give its workers more memory or see their logs and events, then retry the job",
}


def new_job(job_id: str, spec: JobSpec, policy: Policy, now: int) -> Step:
    job = Job(
        job_id,
        spec,
        tuple(TaskState(t.name) for t in dag.tasks_for(spec)),
        created_ms=now,
        updated_ms=now,
        revision=1,
    )
    return _advance(job, policy, now)


def apply(job: Job, event: Event, policy: Policy, now: int) -> Step:
    """The job after event; the same object when the event changes nothing."""
    if isinstance(event, Retry):
        return _retry(job, policy, now)
    if job.terminal:
        return job, ()  # late, duplicate or replayed events of a finished job
    if isinstance(event, StageAnswer):
        return _answer(job, event, policy, now)
    if isinstance(event, Tick):
        return _tick(job, policy, now)
    if isinstance(event, DocWritten):
        return _doc_written(job, event, policy, now)
    return _other(job, event, now), ()


def _other(job: Job, event: Cancel | Progress | Abort, now: int) -> Job:
    if isinstance(event, Abort):
        failed = replace(job, phase=JobPhase.FAILED, error_stage="jobs", error_code="INTERNAL")
        return _touch(replace(failed, error_reason=event.reason), now)
    return _cancel(job, event, now) if isinstance(event, Cancel) else _progress(job, event)


def _doc_written(job: Job, event: DocWritten, policy: Policy, now: int) -> Step:
    if job.episode_doc is not None:
        return job, ()
    return _advance(_touch(replace(job, episode_doc=event.ref), now), policy, now)


def _cancel(job: Job, event: Cancel, now: int) -> Job:
    tasks = tuple(
        t if t.phase is TaskPhase.DONE else TaskState(t.name, tries=t.tries, message="cancelled")
        for t in job.tasks
    )
    reason = event.reason or "cancelled"
    job = replace(job, phase=JobPhase.CANCELLED, tasks=tasks, error_reason=reason)
    return _touch(job, now)


def _progress(job: Job, event: Progress) -> Job:
    task = _current(job, event.request_id)
    if task is None or task.phase is not TaskPhase.RUNNING:
        return job
    fraction = min(1.0, max(0.0, event.fraction))
    return _set(job, replace(task, fraction=fraction, message=event.message))


def resend(job: Job) -> tuple[Send, ...]:
    """The current requests of a running job's RUNNING tasks (after a restart): workers skip
    finished work and answer again, under the same request ids."""
    if job.terminal:
        return ()
    return tuple(_send_of(job, t) for t in job.tasks if t.phase is TaskPhase.RUNNING)


def next_due(job: Job) -> int | None:
    """When a Tick can next change this job (None: not until an answer arrives)."""
    if job.terminal:
        return None
    dues = [t.due_ms for t in job.tasks if t.phase is TaskPhase.RUNNING] + [
        t.due_ms for t in job.tasks if t.phase is TaskPhase.PENDING and t.tries and t.due_ms
    ]
    return min(dues) if dues else None


def _current(job: Job, request_id: str) -> TaskState | None:
    for t in job.tasks:
        if t.request_id and t.request_id == request_id:
            return t
    return None


def _set(job: Job, task: TaskState) -> Job:
    return replace(job, tasks=tuple(task if t.name == task.name else t for t in job.tasks))


def _touch(job: Job, now: int) -> Job:
    return replace(job, revision=job.revision + 1, updated_ms=max(now, job.updated_ms))


def _answer(job: Job, ev: StageAnswer, policy: Policy, now: int) -> Step:
    task = _current(job, ev.request_id)
    # PENDING with tries: waiting out a retry backoff, so the late answer is still welcome.
    if task is None or task.phase not in (TaskPhase.RUNNING, TaskPhase.PENDING):
        return job, ()
    spec = dag.task_of(job, task.name)
    task = replace(task, started_ms=ev.started_ms, finished_ms=ev.finished_ms, received_ms=now)
    if not ev.ok:
        if task.phase is not TaskPhase.RUNNING:
            return job, ()  # a duplicate failure while already waiting to re-send
        code = ev.error_code or "INTERNAL"
        failed = replace(task, error_code=code, message=ev.error_message)
        if code in RETRYABLE and task.tries < policy.max_tries:
            return _backoff(job, failed, policy, now, f"{code}: {ev.error_message}"), ()
        if code in RETRYABLE:
            reason = (
                f"{task.name} failed {task.tries} times ({code}: {ev.error_message}); see the "
                f"{spec.stage} workers' logs (dead letters on "
                f"{topics.dlq(spec.stage, policy.topic_prefix)}), then retry the job"
            )
        else:
            hint = _HINTS.get(code, f"fix the {spec.stage} service's configuration or see its logs")
            reason = f"{task.name}: {ev.error_message}; {hint}"
        return _fail(job, failed, code, reason, now), ()
    missing = [n for n in dag.required_outputs(job, spec) if n not in ev.outputs]
    if task.name == "media" and ev.ja_offset_ms is None and job.spec.kind == dag.DATASET:
        missing.append("info.ja_offset_ms")
    if missing:
        reason = (
            f"{task.name} answered without {', '.join(missing)} (backend {ev.backend!r}); is the "
            f"{spec.stage} service the version this jobs service expects?"
        )
        return _fail(job, task, "INTERNAL", reason, now), ()
    done = replace(
        task,
        phase=TaskPhase.DONE,
        outputs=dict(ev.outputs),
        backend=ev.backend,
        reused=ev.reused,
        error_code="",
        message="reused finished work" if ev.reused else "done",
        fraction=1.0,
        due_ms=0,
    )
    job = _set(job, done)
    if task.name == "media":
        job = replace(job, ja_offset_ms=ev.ja_offset_ms, time_map=ev.time_map)
    return _advance(_touch(job, now), policy, now)


def _backoff(job: Job, task: TaskState, policy: Policy, now: int, why: str) -> Job:
    delay = policy.backoff_ms * 2 ** max(0, task.tries - 1)
    waiting = replace(
        task,
        phase=TaskPhase.PENDING,
        due_ms=now + delay,
        fraction=0.0,
        message=f"try {task.tries} of {policy.max_tries} failed ({why}); "
        f"retrying in {delay / 1000:g} s",
    )
    return _touch(_set(job, waiting), now)


def _fail(job: Job, task: TaskState, code: str, reason: str, now: int) -> Job:
    failed = replace(task, phase=TaskPhase.FAILED, error_code=code, due_ms=0)
    job = replace(
        _set(job, failed),
        phase=JobPhase.FAILED,
        error_stage=task.name,
        error_code=code,
        error_reason=reason,
    )
    return _touch(job, now)


def _tick(job: Job, policy: Policy, now: int) -> Step:
    for task in job.tasks:
        if task.phase is not TaskPhase.RUNNING or task.due_ms > now:
            continue
        stage = dag.task_of(job, task.name).stage
        if task.tries < policy.max_tries:
            why = f"no result after {policy.stage_timeout_ms / 1000:g} s"
            job = _backoff(job, task, policy, now, why)
            continue
        reason = (
            f"no result from {stage} after {task.tries} tries of "
            f"{policy.stage_timeout_ms / 1000:g} s: are the {stage} workers running? "
            f"(topic {topics.requests(stage, policy.topic_prefix)})"
        )
        return _fail(job, task, "TIMEOUT", reason, now), ()
    return _advance(job, policy, now)


def _retry(job: Job, policy: Policy, now: int) -> Step:
    if job.phase not in (JobPhase.FAILED, JobPhase.CANCELLED):
        raise InvalidInputError(
            f"job {job.job_id} is {job.phase.value}; only a failed or cancelled job can be retried"
        )
    tasks = tuple(t if t.phase is TaskPhase.DONE else TaskState(t.name) for t in job.tasks)
    job = replace(
        job,
        tasks=tasks,
        attempt=job.attempt + 1,
        phase=JobPhase.RUNNING,
        error_stage="",
        error_code="",
        error_reason="",
    )
    return _advance(_touch(job, now), policy, now)


def _advance(job: Job, policy: Policy, now: int) -> Step:
    """Send every task whose needs are done; finish the job when every task is."""
    if job.terminal:
        return job, ()
    actions: list[Action] = []
    changed = False
    for task in job.tasks:
        spec = dag.task_of(job, task.name)
        if task.phase is not TaskPhase.PENDING or task.due_ms > now:
            continue
        if any(job.task(n).phase is not TaskPhase.DONE for n in spec.needs):
            continue
        if task.name == dag.PACKAGING and job.episode_doc is None:
            actions.append(WriteDoc(dag.episode_document(job)))
            continue
        tries = task.tries + 1
        sent = replace(
            task,
            phase=TaskPhase.RUNNING,
            tries=tries,
            request_id=request_id_for(job.job_id, job.attempt, task.name, tries),
            sent_ms=now,
            due_ms=now + policy.stage_timeout_ms,
            fraction=0.0,
            message=f"sent (try {tries} of {policy.max_tries})",
        )
        job = _set(job, sent)
        actions.append(_send_of(job, sent))
        changed = True
    if all(t.phase is TaskPhase.DONE for t in job.tasks):
        return _touch(replace(job, phase=JobPhase.SUCCEEDED), now), tuple(actions)
    if changed or job.phase is JobPhase.PENDING:
        job = _touch(replace(job, phase=JobPhase.RUNNING), now)
    return job, tuple(actions)


def _send_of(job: Job, task: TaskState) -> Send:
    spec = dag.task_of(job, task.name)
    return Send(
        task.name,
        spec.stage,
        task.request_id,
        task.tries,
        dag.inputs_for(job, spec),
        dag.params_for(job, spec),
    )
