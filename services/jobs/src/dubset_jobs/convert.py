"""The one place protobuf messages and the core's plain values meet."""

from __future__ import annotations

from dataclasses import replace

from google.protobuf import json_format
from google.protobuf.message import Message

from dubset.v1 import (
    alignment_pb2,
    asr_pb2,
    common_pb2,
    diarization_pb2,
    faces_pb2,
    jobs_pb2,
    media_pb2,
    packaging_pb2,
    quality_pb2,
    render_pb2,
    separation_pb2,
    translation_pb2,
    tts_pb2,
)
from dubset_common.anim400k_proto import episode_info_from_proto, show_from_proto
from dubset_common.errors import InvalidInputError
from dubset_common.timemap import TimeMapError
from dubset_common.timemap_proto import timemap_from_proto, timemap_to_proto
from dubset_jobs.core import dag
from dubset_jobs.core.events import Send, StageAnswer
from dubset_jobs.core.model import Job, JobPhase, JobSpec, Ref, TaskPhase, TaskState

PARAMS: dict[str, type[Message]] = {
    "media": media_pb2.MediaParams,
    "separation": separation_pb2.SeparationParams,
    "asr": asr_pb2.AsrParams,
    "diarization": diarization_pb2.DiarizationParams,
    "alignment": alignment_pb2.AlignmentParams,
    "packaging": packaging_pb2.PackagingParams,
    "tts": tts_pb2.TtsParams,
    "translation": translation_pb2.TranslationParams,
    "render": render_pb2.RenderParams,
    "faces": faces_pb2.FacesParams,
    "quality": quality_pb2.QualityParams,
}
EPISODE_DOC = "jobs/episode_document"


def ref_to_proto(ref: Ref) -> common_pb2.MediaRef:
    return common_pb2.MediaRef(
        uri=ref.uri,
        sha256=ref.sha256,
        size_bytes=ref.size_bytes,
        mime=ref.mime,
        duration_ms=ref.duration_ms,
    )


def ref_from_proto(msg: common_pb2.MediaRef) -> Ref:
    return Ref(msg.uri, msg.sha256, msg.size_bytes, msg.mime, msg.duration_ms)


def overrides_of(options: jobs_pb2.JobOptions) -> dict[str, dict[str, object]]:
    """JobOptions.stage_params as plain params fields, refused when of the wrong type."""
    dag.check_overrides({noun: any_.TypeName() for noun, any_ in options.stage_params.items()})
    out: dict[str, dict[str, object]] = {}
    for noun, any_ in sorted(options.stage_params.items()):
        msg = PARAMS[noun]()
        any_.Unpack(msg)
        out[noun] = json_format.MessageToDict(msg, preserving_proto_field_name=True)
    return out


def spec_of(sub: jobs_pb2.EpisodeSubmission) -> JobSpec:
    """The core's view of an admitted submission (no store access)."""
    return JobSpec(
        episode_id=sub.episode_id,
        episode_number=str(sub.episode_number),
        ja=ref_from_proto(sub.ja_media),
        en=ref_from_proto(sub.en_media),
        show=show_from_proto(sub.show),
        episode=episode_info_from_proto(sub.episode),
        dataset=sub.options.dataset or "default",
        overrides=overrides_of(sub.options),
        run_tts=run_tts(sub.options),
        run_faces=run_faces(sub.options),
        run_quality=run_quality(sub.options),
        flaps=sub.options.kind == jobs_pb2.JOB_KIND_DUB and run_faces(sub.options),
        kind=kind_of(sub.options),
        subtitles={
            lang: ref_from_proto(ref)
            for lang, ref in (("ja", sub.ja_subtitles), ("en", sub.en_subtitles))
            if ref.uri
        },
    )


def kind_of(options: jobs_pb2.JobOptions) -> str:
    return dag.DUB if options.kind == jobs_pb2.JOB_KIND_DUB else dag.DATASET


def run_faces(options: jobs_pb2.JobOptions) -> bool:
    """JobOptions.run_faces: unset means on for a dataset, off for a dub (on, a dub's lines
    are timed to the mouth flaps)."""
    if options.HasField("run_faces"):
        return options.run_faces
    return options.kind != jobs_pb2.JOB_KIND_DUB


def run_quality(options: jobs_pb2.JobOptions) -> bool:
    """JobOptions.run_quality: unset means on (a dataset job); only an explicit false leaves the
    quality task out."""
    return options.run_quality if options.HasField("run_quality") else True


def run_tts(options: jobs_pb2.JobOptions) -> bool:
    """JobOptions.run_tts: unset means on; only an explicit false leaves the tts task out."""
    return options.run_tts if options.HasField("run_tts") else True


def request_of(job: Job, send: Send, now_ms: int) -> common_pb2.StageRequest:
    request = common_pb2.StageRequest(
        request_id=send.request_id,
        job_id=job.job_id,
        episode_id=job.spec.episode_id,
        stage=send.stage,
        submitted_unix_ms=now_ms,
    )
    for name, ref in send.inputs.items():
        request.inputs[name].CopyFrom(ref_to_proto(ref))
    try:
        params = json_format.ParseDict(dict(send.params), PARAMS[send.stage]())
    except json_format.ParseError as exc:
        raise InvalidInputError(f"{send.task} params: {exc}") from None
    request.params.Pack(params)
    return request


def ja_offset_of(result: common_pb2.StageResult) -> int | None:
    """The JA↔EN offset a stage (media) measured, from its result's facts."""
    return result.facts.ja_offset_ms if result.facts.HasField("ja_offset_ms") else None


def answer_of(result: common_pb2.StageResult, ja_offset_ms: int | None) -> StageAnswer:
    """The result as the state machine takes it; a time map that is not one fails the task."""
    ok = result.status == common_pb2.STAGE_STATUS_OK
    code, message = result.error_code, result.error_message
    try:
        time_map = timemap_from_proto(result.facts.time_map)
    except TimeMapError as exc:
        time_map, ok = None, False
        code, message = "INTERNAL", f"{result.stage} answered a time map that is not one: {exc}"
    return StageAnswer(
        request_id=result.request_id,
        ok=ok,
        outputs={n: ref_from_proto(r) for n, r in result.outputs.items()},
        backend=result.backend,
        reused=result.reused,
        error_code=code,
        error_message=message,
        started_ms=result.started_unix_ms,
        finished_ms=result.finished_unix_ms,
        ja_offset_ms=ja_offset_ms,
        time_map=time_map,
    )


def status_of(job: Job, submission: jobs_pb2.EpisodeSubmission) -> jobs_pb2.JobStatus:
    status = jobs_pb2.JobStatus(
        job_id=job.job_id,
        episode_id=job.spec.episode_id,
        state=jobs_pb2.JobState.Value(f"JOB_STATE_{job.phase.value}"),
        error_stage=job.error_stage,
        error_code=job.error_code,
        error_reason=job.error_reason,
        created_unix_ms=job.created_ms,
        updated_unix_ms=job.updated_ms,
        revision=job.revision,
        attempt=job.attempt,
        ja_offset_ms=job.ja_offset_ms or 0,
        ja_offset_known=job.ja_offset_ms is not None,
    )
    if job.time_map is not None:
        status.time_map.CopyFrom(timemap_to_proto(job.time_map))
    status.submission.CopyFrom(submission)
    for t in job.tasks:
        status.stages.append(
            common_pb2.StageProgress(
                stage=t.name,
                state=t.phase.value,
                fraction=t.fraction,
                message=t.message,
                request_id=t.request_id,
                tries=t.tries,
                backend=t.backend,
                reused=t.reused,
                sent_unix_ms=t.sent_ms,
                started_unix_ms=t.started_ms,
                finished_unix_ms=t.finished_ms,
                received_unix_ms=t.received_ms,
                error_code=t.error_code,
            )
        )
    for key, ref in job.outputs().items():
        status.outputs[key].CopyFrom(ref_to_proto(ref))
    return status


def job_of(status: jobs_pb2.JobStatus, now_ms: int, timeout_ms: int) -> Job:
    """A job rebuilt from the state topic: running requests time out from now, and a task
    waiting out a backoff is re-sent at once. A job without a tts stage (turned off, or made
    before the tts task existed) stays without one."""
    outputs: dict[str, dict[str, Ref]] = {}
    for key, ref in status.outputs.items():
        task, _, name = key.partition("/")
        outputs.setdefault(task, {})[name] = ref_from_proto(ref)
    by_name = {p.stage: p for p in status.stages}
    tasks = []
    for t in dag.KINDS[kind_of(status.submission.options)]:
        p = by_name.get(t.name)
        if p is None:
            if t.name not in dag.OPTIONAL:
                tasks.append(TaskState(t.name))
            continue
        phase = TaskPhase(p.state)
        tasks.append(
            TaskState(
                name=t.name,
                phase=phase,
                tries=p.tries,
                request_id=p.request_id,
                sent_ms=p.sent_unix_ms,
                due_ms=_due_after_rebuild(phase, p.tries, now_ms, timeout_ms),
                outputs=outputs.get(t.name, {}) if phase is TaskPhase.DONE else {},
                backend=p.backend,
                reused=p.reused,
                started_ms=p.started_unix_ms,
                finished_ms=p.finished_unix_ms,
                received_ms=p.received_unix_ms,
                error_code=p.error_code,
                message=p.message,
                fraction=p.fraction,
            )
        )
    doc = status.outputs.get(EPISODE_DOC, None)
    return Job(
        job_id=status.job_id,
        spec=replace(
            spec_of(status.submission),
            run_tts=dag.TTS in by_name,
            run_faces=dag.FACES in by_name,
            run_quality=dag.QUALITY in by_name,
            flaps=dag.FACES in by_name and kind_of(status.submission.options) == dag.DUB,
        ),
        tasks=tuple(tasks),
        phase=JobPhase(jobs_pb2.JobState.Name(status.state).removeprefix("JOB_STATE_")),
        attempt=status.attempt,
        revision=status.revision,
        created_ms=status.created_unix_ms,
        updated_ms=status.updated_unix_ms,
        error_stage=status.error_stage,
        error_code=status.error_code,
        error_reason=status.error_reason,
        ja_offset_ms=status.ja_offset_ms if status.ja_offset_known else None,
        time_map=timemap_from_proto(status.time_map),
        episode_doc=None if doc is None else ref_from_proto(doc),
    )


def _due_after_rebuild(phase: TaskPhase, tries: int, now_ms: int, timeout_ms: int) -> int:
    """RUNNING: times out a full timeout from now; PENDING after a failed try (its backoff
    deadline is not on the state topic): due now, so the first Tick re-sends it."""
    if phase is TaskPhase.RUNNING:
        return now_ms + timeout_ms
    return now_ms if phase is TaskPhase.PENDING and tries else 0
