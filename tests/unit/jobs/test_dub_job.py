"""The dub job: the Japanese episode alone through media, separation, asr.ja, diarization.ja,
translation, voice and render; what each task is given, and the job finishing without an
offset or an episode document."""

from __future__ import annotations

from pathlib import Path

import pytest

from dubset.v1 import jobs_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.objstore import LocalStore
from dubset_common.stagerequest import media_ref
from dubset_jobs.admission import admit
from dubset_jobs.core import dag
from dubset_jobs.core.model import Job, JobPhase, Ref
from dubset_jobs.core.state import Send, StageAnswer, apply, new_job
from tests.unit.jobs.test_core_ids_dag import spec
from tests.unit.jobs.test_core_state import POLICY

SUBS = Ref("s3://b/en.ass", "e" * 64)


def outputs_of(task: str) -> dict[str, Ref]:
    produces = {t.name: t.produces for t in dag.DUB_TASKS}[task]
    return {n: Ref(f"s3://b/{task}/{n}", "0" * 64) for n in produces}


def run(job: Job, actions: tuple[object, ...]) -> tuple[Job, dict[str, Send]]:
    sent: dict[str, Send] = {}
    queue, now = list(actions), 0
    while queue:
        action = queue.pop(0)
        assert isinstance(action, Send), action  # no episode document in a dub job
        sent[action.task] = action
        now += 1
        answer = StageAnswer(action.request_id, True, outputs_of(action.task), "be", False)
        job, more = apply(job, answer, POLICY, now)
        queue.extend(more)
    return job, sent


def test_a_dub_job_runs_its_seven_tasks_and_wires_them() -> None:
    job, actions = new_job("dub1", spec(kind="dub", subtitles={"en": SUBS}), POLICY, 0)
    assert [t.name for t in job.tasks] == [t.name for t in dag.DUB_TASKS]
    job, sent = run(job, actions)
    assert job.phase is JobPhase.SUCCEEDED
    assert list(sent) == ["media", "separation", "asr.ja", "diarization.ja", "translation",
                          "voice", "render"]  # fmt: skip
    assert set(sent["media"].inputs) == {"ja"}
    assert sent["separation"].params["backend"] == "repet"
    assert sent["translation"].inputs["subtitles"] == SUBS
    assert set(sent["voice"].inputs) == {"translation", "ja_dialogue", "ja_turns"}
    assert sent["voice"].stage == "tts" and "dataset" not in sent["voice"].params
    assert sent["render"].inputs["video"] == job.spec.ja
    assert job.outputs()["render/video"].uri == "s3://b/render/video"


def test_without_subtitles_the_translation_gets_none() -> None:
    job, actions = new_job("dub2", spec(kind="dub"), POLICY, 0)
    _, sent = run(job, actions)
    assert "subtitles" not in sent["translation"].inputs


def test_a_dub_submission_with_an_english_video_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    ref = media_ref(store.put_bytes("in/ja.mp4", b"x" * 100, "video/mp4"))
    sub = jobs_pb2.EpisodeSubmission(episode_number=1, ja_media=ref, en_media=ref)
    sub.show.show = "Show"
    sub.options.kind = jobs_pb2.JOB_KIND_DUB
    with pytest.raises(InvalidInputError, match="leave en_media empty"):
        admit(sub, store, 10**9)
    sub.ClearField("en_media")
    admitted = admit(sub, store, 10**9)
    assert admitted.spec.kind == "dub"
    plain = jobs_pb2.EpisodeSubmission()
    plain.CopyFrom(sub)
    plain.options.ClearField("kind")
    plain.en_media.CopyFrom(ref)
    assert admit(plain, store, 10**9).job_id != admitted.job_id


def test_a_dub_on_the_flaps_finds_the_faces_before_the_voices() -> None:
    job, actions = new_job("dub3", spec(kind="dub", flaps=True), POLICY, 0)
    assert [t.name for t in job.tasks] == [t.name for t in dag.DUB_FLAP_TASKS]
    order: list[str] = []
    queue, now = list(actions), 0
    while queue:
        action = queue.pop(0)
        assert isinstance(action, Send)
        order.append(action.task)
        now += 1
        produces = {t.name: t.produces for t in dag.DUB_FLAP_TASKS}[action.task]
        outputs = {n: Ref(f"s3://b/{action.task}/{n}", "0" * 64) for n in produces}
        if action.task == "voice":
            assert action.inputs["faces"] == Ref("s3://b/faces/faces", "0" * 64)
        if action.task == "faces":
            assert set(action.inputs) == {"video", "translation", "ja_turns"}
        answer = StageAnswer(action.request_id, True, outputs, "be", False)
        job, more = apply(job, answer, POLICY, now)
        queue.extend(more)
    assert job.phase is JobPhase.SUCCEEDED
    assert order.index("faces") < order.index("voice") < order.index("render")


def test_run_faces_on_a_dub_submission_means_the_flaps() -> None:
    from dubset_jobs.convert import spec_of

    sub = jobs_pb2.EpisodeSubmission(episode_number=1)
    sub.show.show = "Show"
    sub.options.kind = jobs_pb2.JOB_KIND_DUB
    assert (spec_of(sub).flaps, spec_of(sub).run_faces) == (False, False)
    sub.options.run_faces = True
    assert spec_of(sub).flaps is True
    sub.options.kind = jobs_pb2.JOB_KIND_DATASET
    assert spec_of(sub).flaps is False and spec_of(sub).run_faces is True
