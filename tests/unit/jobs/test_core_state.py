"""The job state machine: happy path, failures with reasons, retries, timeouts, replays."""

from __future__ import annotations

import pytest

from dubset_common.errors import InvalidInputError
from dubset_jobs.core import dag
from dubset_jobs.core.model import Job, JobPhase, Ref, TaskPhase
from dubset_jobs.core.state import (
    Cancel,
    DocWritten,
    Policy,
    Progress,
    Retry,
    Send,
    StageAnswer,
    Tick,
    WriteDoc,
    apply,
    new_job,
    next_due,
    resend,
)
from tests.unit.jobs.test_core_ids_dag import spec

POLICY = Policy(stage_timeout_ms=10_000, max_tries=3, backoff_ms=1_000)


def outputs_of(task: str) -> dict[str, Ref]:
    return {n: Ref(f"s3://b/{task}/{n}", "0" * 64) for n in dag.BY_NAME[task].produces}


def ok(send: Send) -> StageAnswer:
    offset = 1500 if send.task == "media" else None
    return StageAnswer(
        send.request_id, True, outputs_of(send.task), f"{send.task}-be", False, ja_offset_ms=offset
    )


def run_to_end(job: Job, actions: tuple[object, ...], now: int = 0) -> tuple[Job, list[Send]]:
    """Answer every request OK (and write the episode doc) until nothing is left to do."""
    sent: list[Send] = []
    queue = list(actions)
    while queue:
        action = queue.pop(0)
        now += 1
        if isinstance(action, WriteDoc):
            job, more = apply(job, DocWritten(Ref("s3://b/doc.json", "d" * 64)), POLICY, now)
        else:
            assert isinstance(action, Send)
            sent.append(action)
            job, more = apply(job, ok(action), POLICY, now)
        queue.extend(more)
    return job, sent


def test_happy_path_runs_every_task_once_in_dependency_order() -> None:
    job, actions = new_job("job1", spec(), POLICY, 0)
    assert job.phase is JobPhase.RUNNING
    assert [a.task for a in actions if isinstance(a, Send)] == ["media"]
    job, sent = run_to_end(job, actions)
    assert job.phase is JobPhase.SUCCEEDED
    assert [s.task for s in sent][0:2] == ["media", "separation"]
    assert sorted(s.task for s in sent) == sorted(t.name for t in dag.TASKS)
    assert [s.task for s in sent][-4:] == ["packaging", "tts", "faces", "quality"]
    assert sent[-4].inputs["episode"] == Ref("s3://b/doc.json", "d" * 64)
    assert sent[-2].inputs["episode"] == outputs_of("packaging")["episode"]
    faces = sent[-1]  # the JA video, the clip pairs (packaging's fragment), the JA turns
    assert faces.inputs["episode"] == outputs_of("packaging")["episode"]
    assert faces.inputs["ja_turns"] == outputs_of("diarization.ja")["turns"]
    assert faces.params == {"dataset": spec().dataset}
    sep = next(s for s in sent if s.task == "separation")
    assert sep.params == {"ja_offset_ms": 1500}
    assert job.ja_offset_ms == 1500
    assert all(t.phase is TaskPhase.DONE for t in job.tasks)
    assert job.outputs()["episode"] == outputs_of("packaging")["episode"]
    assert job.outputs()["asr.ja/transcript"].uri == "s3://b/asr.ja/transcript"
    assert sent[0].request_id == "job1.1.media.1"


def test_invalid_input_ends_the_job_at_once_with_an_actionable_reason() -> None:
    job, (send,) = new_job("job1", spec(), POLICY, 0)
    assert isinstance(send, Send)
    failed = StageAnswer(
        send.request_id,
        False,
        error_code="INVALID_INPUT",
        error_message="the JA and EN videos are not the same episode: durations differ",
    )
    job, actions = apply(job, failed, POLICY, 5)
    assert actions == ()
    assert job.phase is JobPhase.FAILED
    assert (job.error_stage, job.error_code) == ("media", "INVALID_INPUT")
    assert job.error_reason.startswith("media: the JA and EN videos are not the same episode")
    assert "check the files" in job.error_reason
    assert job.task("media").phase is TaskPhase.FAILED


def test_retryable_failure_is_retried_with_backoff_then_fails() -> None:
    job, (send,) = new_job("job1", spec(), POLICY, 0)
    assert isinstance(send, Send)
    now = 0
    delays = []
    for attempt in (1, 2):
        bad = StageAnswer(send.request_id, False, error_code="UNAVAILABLE", error_message="s3 down")
        job, actions = apply(job, bad, POLICY, now)
        assert actions == () and job.phase is JobPhase.RUNNING
        due = next_due(job)
        assert due is not None
        delays.append(due - now)
        job, actions = apply(job, Tick(), POLICY, due - 1)
        assert actions == ()  # still backing off
        job, actions = apply(job, Tick(), POLICY, due)
        (send,) = actions
        assert isinstance(send, Send) and send.tries == attempt + 1
        assert send.request_id == f"job1.1.media.{attempt + 1}"
        now = due
    assert delays == [1_000, 2_000]  # exponential
    bad = StageAnswer(send.request_id, False, error_code="INTERNAL", error_message="boom")
    job, _ = apply(job, bad, POLICY, now)
    assert job.phase is JobPhase.FAILED
    assert "media failed 3 times (INTERNAL: boom)" in job.error_reason
    assert "dubset.media.dlq.v1" in job.error_reason


def test_timeouts_resend_then_fail_naming_the_workers_and_topic() -> None:
    policy = Policy(stage_timeout_ms=3_600_000, max_tries=2, backoff_ms=0, topic_prefix="p.")
    job, _ = new_job("job1", spec(), policy, 0)
    job, _ = apply(job, Tick(), policy, 3_599_999)
    assert job.task("media").tries == 1
    job, actions = apply(job, Tick(), policy, 3_600_000)
    assert [a.request_id for a in actions if isinstance(a, Send)] == ["job1.1.media.2"]
    job, actions = apply(job, Tick(), policy, 7_200_000)
    assert job.phase is JobPhase.FAILED and job.error_code == "TIMEOUT"
    assert job.error_reason == (
        "no result from media after 2 tries of 3600 s: are the media workers running? "
        "(topic p.dubset.media.requests.v1)"
    )


def test_duplicate_late_and_replayed_results_are_ignored() -> None:
    job, (first,) = new_job("job1", spec(), POLICY, 0)
    assert isinstance(first, Send)
    job, actions = apply(job, ok(first), POLICY, 1)
    assert [a.task for a in actions if isinstance(a, Send)] == ["separation"]
    again, actions = apply(job, ok(first), POLICY, 2)  # duplicate of a done task
    assert again is job and actions == ()
    stranger = StageAnswer("job1.1.separation.7", True, outputs_of("separation"))
    assert apply(job, stranger, POLICY, 3) == (job, ())
    # A late answer of an earlier try, after the re-send, is not the current request.
    job2, (m1,) = new_job("job2", spec(), POLICY, 0)
    job2, _ = apply(job2, Tick(), POLICY, 10_000)  # timeout → backoff
    job2, (m2,) = apply(job2, Tick(), POLICY, 11_000)
    assert isinstance(m1, Send) and isinstance(m2, Send)
    assert apply(job2, ok(m1), POLICY, 11_500)[0] is job2
    done, _ = apply(job2, ok(m2), POLICY, 12_000)
    assert done.task("media").phase is TaskPhase.DONE


def test_cancel_stops_the_job_and_its_late_results_change_nothing() -> None:
    job, (send,) = new_job("job1", spec(), POLICY, 0)
    assert isinstance(send, Send)
    job, _ = apply(job, Cancel("wrong files"), POLICY, 1)
    assert job.phase is JobPhase.CANCELLED and job.error_reason == "wrong files"
    assert apply(job, ok(send), POLICY, 2)[0] is job
    assert apply(job, Cancel("again"), POLICY, 3)[0] is job  # a finished job stays as it is
    assert resend(job) == ()


def test_retry_keeps_done_tasks_and_reruns_the_rest_under_a_new_attempt() -> None:
    job, (media,) = new_job("job1", spec(), POLICY, 0)
    assert isinstance(media, Send)
    job, (sep,) = apply(job, ok(media), POLICY, 1)
    assert isinstance(sep, Send)
    bad = StageAnswer(sep.request_id, False, error_code="CONFIG", error_message="no model dir")
    job, _ = apply(job, bad, POLICY, 2)
    assert job.phase is JobPhase.FAILED and "configuration" in job.error_reason
    with pytest.raises(InvalidInputError):
        apply(job.__class__(**{**job.__dict__, "phase": JobPhase.RUNNING}), Retry(), POLICY, 3)
    job, actions = apply(job, Retry(), POLICY, 3)
    assert job.phase is JobPhase.RUNNING and job.attempt == 2 and job.error_reason == ""
    assert [(a.task, a.request_id) for a in actions if isinstance(a, Send)] == [
        ("separation", "job1.2.separation.1")
    ]
    assert job.task("media").phase is TaskPhase.DONE
    job, sent = run_to_end(job, actions, 10)
    assert job.phase is JobPhase.SUCCEEDED
    assert "media" not in [s.task for s in sent]


def test_progress_changes_the_fraction_but_not_the_revision_and_resend_repeats_ids() -> None:
    job, (media,) = new_job("job1", spec(), POLICY, 0)
    assert isinstance(media, Send)
    moved, actions = apply(job, Progress(media.request_id, 0.4, "probing"), POLICY, 1)
    assert moved.task("media").fraction == pytest.approx(0.4)
    assert moved.revision == job.revision and actions == ()
    assert apply(job, Progress("other", 0.4, "x"), POLICY, 1)[0] is job
    assert [s.request_id for s in resend(moved)] == [media.request_id]


def test_result_without_a_required_output_fails_the_job() -> None:
    job, (media,) = new_job("job1", spec(), POLICY, 0)
    assert isinstance(media, Send)
    partial = StageAnswer(media.request_id, True, {"ja": Ref("s3://b/x")}, "be", ja_offset_ms=0)
    job, _ = apply(job, partial, POLICY, 1)
    assert job.phase is JobPhase.FAILED
    assert "media answered without en, media" in job.error_reason
