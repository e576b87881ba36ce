"""Ids are deterministic and safe; the DAG wires each task to the right outputs and params."""

from __future__ import annotations

import pytest

from dubset_common.errors import InvalidInputError
from dubset_common.keys import check_id
from dubset_jobs.core import dag
from dubset_jobs.core.ids import client_id, episode_id_for, job_id_for, request_id_for
from dubset_jobs.core.model import Job, JobSpec, Ref, TaskState

JA = Ref("s3://b/ja.mp4", "a" * 64, 10)
EN = Ref("s3://b/en.mp4", "b" * 64, 10)


def spec(**kw: object) -> JobSpec:
    base: dict[str, object] = dict(
        episode_id="show-e01-12345678",
        episode_number="1",
        ja=JA,
        en=EN,
        show={"show": "Show", "season": "1"},
        episode={"url": "", "jp_video_id": "", "en_video_id": "given"},
    )
    base.update(kw)
    return JobSpec(**base)  # type: ignore[arg-type]


def test_episode_id_is_readable_deterministic_and_safe() -> None:
    a = episode_id_for("Cowboy Bebop", "Season 1", 3)
    assert a == episode_id_for("Cowboy Bebop", "Season 1", 3)
    assert a.startswith("cowboy-bebop-season-1-e03-")
    check_id(a)
    # Shows that slug alike still differ; a Japanese-only title gets a usable id.
    assert episode_id_for("Cowboy  Bebop!", "Season 1", 3) != a
    jp = episode_id_for("カウボーイビバップ", "", 3)
    assert jp.startswith("show-e03-")
    check_id(jp)
    long = episode_id_for("x" * 500, "y" * 500, 12345)
    assert len(long) <= 128
    check_id(long)
    with pytest.raises(InvalidInputError):
        episode_id_for("s", "1", -1)


def test_job_id_depends_on_media_and_options_only() -> None:
    ep = episode_id_for("Show", "1", 1)
    a = job_id_for(ep, "a" * 64, "b" * 64, "opts")
    assert a == job_id_for(ep, "a" * 64, "b" * 64, "opts")
    assert a != job_id_for(ep, "c" * 64, "b" * 64, "opts")
    assert a != job_id_for(ep, "a" * 64, "b" * 64, "other")
    rid = request_id_for(a, 1, "asr.ja", 3)
    assert rid == f"{a}.1.asr.ja.3"
    check_id(request_id_for(job_id_for("x" * 100, "a", "b", "c"), 99, "diarization.en", 9))


@pytest.mark.parametrize("hostile", ["../../x", "/etc/passwd", "a/b", "", "x" * 101, "a b", ".x"])
def test_hostile_client_ids_are_refused(hostile: str) -> None:
    with pytest.raises(InvalidInputError):
        client_id(hostile, "episode id")


def done(job: Job, name: str, **outputs: Ref) -> Job:
    tasks = tuple(
        TaskState(t.name, outputs=outputs, backend=f"{name}-be") if t.name == name else t
        for t in job.tasks
    )
    return Job(job.job_id, job.spec, tasks, ja_offset_ms=job.ja_offset_ms)


def test_each_task_reads_the_outputs_of_the_tasks_it_needs() -> None:
    job = Job("j", spec(), tuple(TaskState(t.name) for t in dag.TASKS), ja_offset_ms=1500)
    assert dag.inputs_for(job, dag.BY_NAME["media"]) == {"ja": JA, "en": EN}
    wav = {n: Ref(f"s3://b/{n}.wav", n * 64) for n in ("ja", "en", "media")}
    job = done(job, "media", **wav)
    assert dag.inputs_for(job, dag.BY_NAME["separation"]) == {"ja": wav["ja"], "en": wav["en"]}
    stems = {f"{n}_dialogue": Ref(f"s3://b/{n}_d.wav") for n in ("ja", "en")}
    job = done(job, "separation", **stems)
    assert dag.inputs_for(job, dag.BY_NAME["asr.en"]) == {"audio": stems["en_dialogue"]}
    assert dag.inputs_for(job, dag.BY_NAME["diarization.ja"]) == {"audio": stems["ja_dialogue"]}
    job = done(job, "asr.ja", transcript=Ref("s3://b/tja"))
    job = done(job, "asr.en", transcript=Ref("s3://b/ten"))
    with pytest.raises(KeyError):  # alignment also reads the speaker turns
        dag.inputs_for(job, dag.BY_NAME["alignment"])
    job = done(job, "diarization.ja", turns=Ref("s3://b/dja"))
    job = done(job, "diarization.en", turns=Ref("s3://b/den"))
    assert dag.inputs_for(job, dag.BY_NAME["alignment"]) == {
        "en": Ref("s3://b/ten"),
        "ja": Ref("s3://b/tja"),
        "en_turns": Ref("s3://b/den"),
        "ja_turns": Ref("s3://b/dja"),
    }
    with pytest.raises(KeyError):  # packaging waits for the episode document
        dag.inputs_for(job, dag.BY_NAME["packaging"])


def test_params_use_the_measured_offset_and_language_and_honour_overrides() -> None:
    job = Job("j", spec(), tuple(TaskState(t.name) for t in dag.TASKS), ja_offset_ms=1500)
    assert dag.params_for(job, dag.BY_NAME["separation"]) == {"ja_offset_ms": 1500}
    assert dag.params_for(job, dag.BY_NAME["alignment"]) == {"ja_offset_ms": 1500}
    assert dag.params_for(job, dag.BY_NAME["asr.ja"]) == {"language": "LANGUAGE_JA"}
    assert dag.params_for(job, dag.BY_NAME["packaging"]) == {"dataset": "default"}
    over = spec(overrides={"asr": {"model": "tiny", "language": "LANGUAGE_EN"}}, dataset="d1")
    job = Job("j", over, job.tasks, ja_offset_ms=0)
    # The task fixes its language; the rest of the override applies.
    assert dag.params_for(job, dag.BY_NAME["asr.ja"]) == {
        "model": "tiny",
        "language": "LANGUAGE_JA",
    }
    assert dag.params_for(job, dag.BY_NAME["packaging"]) == {"dataset": "d1"}


def test_overrides_of_unknown_stage_or_wrong_type_are_refused() -> None:
    dag.check_overrides({"asr": "dubset.v1.AsrParams"})
    with pytest.raises(InvalidInputError, match=r"must be a dubset\.v1\.AsrParams"):
        dag.check_overrides({"asr": "dubset.v1.MediaParams"})
    with pytest.raises(InvalidInputError, match="no stage 'tts2'"):
        dag.check_overrides({"tts2": "dubset.v1.TtsParams"})


def test_episode_document_fills_video_ids_and_provenance() -> None:
    job = Job("j", spec(), tuple(TaskState(t.name) for t in dag.TASKS))
    job = done(job, "asr.ja")
    doc = dag.episode_document(job)
    assert doc["format"] == "dubset-episode/1"
    episode = doc["episode"]
    assert isinstance(episode, dict)
    assert episode["jp_video_id"] == "a" * 64  # empty: the JA video's sha256
    assert episode["en_video_id"] == "given"
    prov = doc["provenance"]
    assert isinstance(prov, dict)
    assert prov["asr.ja"] == "asr.ja-be"
    assert "packaging" not in prov


def test_a_subtitle_file_goes_to_its_language_asr_task_only_and_the_map_to_its_readers() -> None:
    from dubset_common.timemap import Piece, TimeMap

    subs = Ref("s3://b/en.ass", "c" * 64, 10)
    tm = TimeMap((Piece(0, 1000, 0, 1000), Piece(1000, 9000, 4000, 12000)))
    job = Job("j", spec(subtitles={"en": subs}), tuple(TaskState(t.name) for t in dag.TASKS))
    job = done(
        job, "separation", **{f"{n}_dialogue": Ref(f"s3://b/{n}_d.wav") for n in ("ja", "en")}
    )
    assert dag.inputs_for(job, dag.BY_NAME["asr.en"])["subtitles"] == subs
    assert "subtitles" not in dag.inputs_for(job, dag.BY_NAME["asr.ja"])
    assert "subtitles" not in dag.inputs_for(job, dag.BY_NAME["diarization.en"])
    mapped = Job("j", spec(), job.tasks, ja_offset_ms=0, time_map=tm)
    params = dag.params_for(mapped, dag.BY_NAME["alignment"])
    assert params["time_map"]["pieces"][1]["en_start_ms"] == 4000  # type: ignore[index]
    assert "time_map" not in dag.params_for(mapped, dag.BY_NAME["asr.en"])


def test_a_subtitle_stream_media_extracted_is_the_asr_tasks_subtitles() -> None:
    job = Job("j", spec(), tuple(TaskState(t.name) for t in dag.TASKS))
    extracted = Ref("s3://b/en_subtitles.ass", "d" * 64, 10)
    job = done(job, "media", en_subtitles=extracted)
    job = done(
        job, "separation", **{f"{n}_dialogue": Ref(f"s3://b/{n}_d.wav") for n in ("ja", "en")}
    )
    assert dag.inputs_for(job, dag.BY_NAME["asr.en"])["subtitles"] == extracted
    assert "subtitles" not in dag.inputs_for(job, dag.BY_NAME["asr.ja"])
