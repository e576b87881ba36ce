"""The tts task: after packaging unless turned off, wired to its inputs, and old jobs without it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import jobs_pb2, tts_pb2
from dubset_common import topics
from dubset_common.bus import InProcBus
from dubset_common.errors import InvalidInputError
from dubset_common.keys import canonical_json
from dubset_common.objstore import LocalStore
from dubset_jobs import convert
from dubset_jobs.admission import admit
from dubset_jobs.core import dag
from dubset_jobs.core.ingest_parse import parse_manifest
from dubset_jobs.core.model import Job, JobPhase, Ref, TaskPhase
from dubset_jobs.core.state import DocWritten, Retry, Send, StageAnswer, WriteDoc, apply, new_job
from dubset_jobs.orchestrator import JobsOptions, Orchestrator
from tests.unit.jobs.fakes import FakeWorkers, submission
from tests.unit.jobs.test_core_ids_dag import spec
from tests.unit.jobs.test_core_state import POLICY, ok, outputs_of, run_to_end

OPTIONS = JobsOptions(
    stage_timeout_s=30, max_tries=2, retry_backoff_s=0.05, tick_s=0.05, poll_timeout_s=0.05
)
MAX_MEDIA = 1 << 30


def test_the_dag_has_tts_after_packaging_reading_the_episode_and_stems() -> None:
    job, actions = new_job(
        "job1", spec(dataset="anime", run_faces=False, run_quality=False), POLICY, 0
    )
    assert [t.name for t in job.tasks][-2:] == ["packaging", "tts"]
    job, sent = run_to_end(job, actions)
    assert job.phase is JobPhase.SUCCEEDED
    tts = sent[-1]
    assert tts.task == "tts" and tts.stage == "tts"
    assert tts.inputs == {
        "episode": outputs_of("packaging")["episode"],
        "en_dialogue": outputs_of("separation")["en_dialogue"],
        "en_backing": outputs_of("separation")["en_backing"],
        "ja_dialogue": outputs_of("separation")["ja_dialogue"],
        "en_turns": outputs_of("diarization.en")["turns"],
    }
    assert tts.params == {"dataset": "anime"}
    assert job.task("tts").backend == "tts-be"  # the job records the tts backend
    assert job.outputs()["tts/baseline"] == outputs_of("tts")["baseline"]
    # The episode document (packaging's input) is made before tts and does not name it.
    assert "tts" not in dag.provenance(job)
    assert set(dag.provenance(job)) == set(dag.BY_NAME["packaging"].needs)


def test_run_tts_false_gives_todays_job_without_tts() -> None:
    job, actions = new_job(
        "job1", spec(run_tts=False, run_faces=False, run_quality=False), POLICY, 0
    )
    assert "tts" not in [t.name for t in job.tasks]
    job, sent = run_to_end(job, actions)
    assert job.phase is JobPhase.SUCCEEDED
    assert [s.task for s in sent][-1] == "packaging"
    wanted = sorted(t.name for t in dag.TASKS if t.name not in ("tts", "faces", "quality"))
    assert sorted(s.task for s in sent) == wanted


def test_separation_must_give_the_backing_stem_only_when_tts_reads_it() -> None:
    for run_tts, phase in ((True, JobPhase.FAILED), (False, JobPhase.RUNNING)):
        job, (media,) = new_job("job1", spec(run_tts=run_tts), POLICY, 0)
        assert isinstance(media, Send)
        job, (sep,) = apply(job, ok(media), POLICY, 1)
        assert isinstance(sep, Send)
        outputs = {k: v for k, v in outputs_of("separation").items() if k != "en_backing"}
        job, _ = apply(job, StageAnswer(sep.request_id, True, outputs, "sep"), POLICY, 2)
        assert job.phase is phase
        if phase is JobPhase.FAILED:
            assert "separation answered without en_backing" in job.error_reason


def _packaged() -> tuple[Job, Send]:
    """A job answered OK up to packaging; returns it and its tts request, not yet answered."""
    job, actions = new_job("job1", spec(run_faces=False, run_quality=False), POLICY, 0)
    queue, now = list(actions), 0
    while queue:
        action = queue.pop(0)
        now += 1
        if isinstance(action, WriteDoc):
            job, more = apply(job, DocWritten(Ref("s3://b/doc.json", "d" * 64)), POLICY, now)
        elif isinstance(action, Send) and action.task == "tts":
            return job, action
        else:
            assert isinstance(action, Send)
            job, more = apply(job, ok(action), POLICY, now)
        queue.extend(more)
    raise AssertionError("tts was never sent")


def test_the_job_succeeds_only_when_tts_is_done_and_fails_naming_it() -> None:
    job, tts = _packaged()
    assert job.phase is JobPhase.RUNNING
    assert job.task("packaging").phase is TaskPhase.DONE
    bad = StageAnswer(
        tts.request_id, False, error_code="INVALID_INPUT", error_message="clip 3 has no text"
    )
    failed, _ = apply(job, bad, POLICY, 100)
    assert failed.phase is JobPhase.FAILED and failed.error_stage == "tts"
    assert failed.error_reason.startswith("tts: clip 3 has no text")
    # A retry re-runs tts alone: finished packaging (and everything before it) is reused.
    again, actions = apply(failed, Retry(), POLICY, 101)
    assert [a.task for a in actions if isinstance(a, Send)] == ["tts"]
    assert again.task("packaging").phase is TaskPhase.DONE
    (resent,) = actions
    assert isinstance(resent, Send) and resent.request_id == "job1.2.tts.1"
    done, _ = apply(again, ok(resent), POLICY, 102)
    assert done.phase is JobPhase.SUCCEEDED


def test_run_tts_unset_means_on_and_overrides_take_tts_params() -> None:
    sub = jobs_pb2.EpisodeSubmission()
    sub.show.show = "S"
    assert convert.spec_of(sub).run_tts is True
    sub.options.run_tts = True
    assert convert.spec_of(sub).run_tts is True
    sub.options.run_tts = False
    assert convert.spec_of(sub).run_tts is False
    sub.options.stage_params["tts"].Pack(tts_pb2.TtsParams(backend="festival", voice="slt"))
    overrides = convert.overrides_of(sub.options)
    assert overrides == {"tts": {"backend": "festival", "voice": "slt"}}
    job, _ = new_job("j", spec(overrides=overrides, dataset="d1"), POLICY, 0)
    params = dag.params_for(job, dag.BY_NAME["tts"])
    assert params == {"dataset": "d1", "backend": "festival", "voice": "slt"}
    send = Send("tts", "tts", "r", 1, {}, params)
    request = convert.request_of(job, send, 0)
    unpacked = tts_pb2.TtsParams()
    assert request.params.Unpack(unpacked) and unpacked.dataset == "d1"


def test_explicit_true_is_the_same_job_as_unset_and_false_another(store: LocalStore) -> None:
    unset = admit(submission(store), store, MAX_MEDIA)
    on = submission(store)
    on.options.run_tts = True
    off = submission(store)
    off.options.run_tts = False
    assert admit(on, store, MAX_MEDIA).job_id == unset.job_id
    assert admit(off, store, MAX_MEDIA).job_id != unset.job_id
    assert admit(off, store, MAX_MEDIA).spec.run_tts is False


def test_an_uploaded_manifest_can_turn_tts_off() -> None:
    doc = {
        "format": "dubset-episode-manifest/1",
        "show": {"show": "S"},
        "episode_number": 1,
        "ja": "ja.mp4",
        "en": "en.mp4",
    }
    assert parse_manifest(canonical_json(doc), "up/a.episode.json").run_tts is True
    off = {**doc, "options": {"run_tts": False}}
    assert parse_manifest(canonical_json(off), "up/a.episode.json").run_tts is False
    with pytest.raises(InvalidInputError, match="run_tts must be true or false"):
        parse_manifest(canonical_json({**doc, "options": {"run_tts": "no"}}), "up/a.episode.json")


def test_a_stored_job_without_tts_rebuilds_without_it(store: LocalStore) -> None:
    admitted = admit(submission(store), store, MAX_MEDIA)
    sub = admitted.submission  # run_tts unset, as in every job made before the tts task
    old_job, _ = new_job("old", replace(admitted.spec, run_tts=False), POLICY, 0)
    old_status = convert.status_of(old_job, sub)
    assert "tts" not in [s.stage for s in old_status.stages]
    rebuilt = convert.job_of(old_status, 10, 1000)
    assert [t.name for t in rebuilt.tasks] == [t.name for t in old_job.tasks]
    assert rebuilt.spec.run_tts is False
    new, _ = new_job("new", admitted.spec, POLICY, 0)
    assert "tts" in [t.name for t in convert.job_of(convert.status_of(new, sub), 10, 1000).tasks]


@pytest.fixture
def orch(bus: InProcBus, store: LocalStore) -> Iterator[Orchestrator]:
    o = Orchestrator(bus, store, OPTIONS, CollectorRegistry())
    yield o
    o.stop()


def test_old_running_job_on_the_state_topic_finishes_without_tts(
    bus: InProcBus, store: LocalStore, orch: Orchestrator
) -> None:
    admitted = admit(submission(store), store, MAX_MEDIA)
    # A job from before tts, faces and quality existed.
    old_spec = replace(admitted.spec, run_tts=False, run_faces=False, run_quality=False)
    old_job, _ = new_job("old-job", old_spec, POLICY, 0)
    status = convert.status_of(old_job, admitted.submission)  # only "media" sent so far
    bus.producer().publish(topics.jobs_state(), b"old-job", status.SerializeToString())
    workers = FakeWorkers(bus, store).start()
    try:
        orch.start()
        done = orch.wait("old-job", 20)
        fresh, _ = orch.submit(submission(store, 2))
        fresh_done = orch.wait(fresh.job_id, 20)
    finally:
        workers.close()
    assert done.state == jobs_pb2.JOB_STATE_SUCCEEDED, done.error_reason
    assert "tts" not in [s.stage for s in done.stages]
    assert fresh_done.state == jobs_pb2.JOB_STATE_SUCCEEDED, fresh_done.error_reason
    assert [s.stage for s in fresh_done.stages][-3:] == ["tts", "faces", "quality"]
    assert "faces" not in [s.stage for s in done.stages]  # an old job keeps its own tasks
    assert "tts/baseline" in fresh_done.outputs
    tts = [r for r in workers.requests if r.stage == "tts"]
    assert [r.job_id for r in tts] == [fresh.job_id]
    assert set(tts[0].inputs) == {"episode", "en_dialogue", "en_backing", "ja_dialogue", "en_turns"}
    assert tts[0].params.Is(tts_pb2.TtsParams.DESCRIPTOR)
