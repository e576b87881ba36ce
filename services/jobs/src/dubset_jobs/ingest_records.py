"""Records of dubset.ingest.v1 → submitted jobs, or dead letters that say why not."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable

from google.protobuf.message import DecodeError

from dubset.v1 import common_pb2, jobs_pb2, media_pb2
from dubset_common.anim400k_proto import episode_info_to_proto, show_to_proto
from dubset_common.bus import Producer, Record
from dubset_common.errors import DubsetError, InvalidInputError, TransientError
from dubset_common.jsondoc import load_object
from dubset_common.objstore import ObjectStore
from dubset_jobs.core.ingest_parse import (
    MAX_MANIFEST_BYTES,
    ObjectEvent,
    as_json_object,
    parse_manifest,
    parse_notification,
)
from dubset_jobs.metrics import JobsMetrics
from dubset_jobs.retrying import retrying

log = logging.getLogger(__name__)
MAX_LETTER_BYTES = 512 * 1024
Submit = Callable[[jobs_pb2.EpisodeSubmission, str], tuple[jobs_pb2.JobStatus, bool]]


class IngestRecords:
    """Admits ingest records: protobuf submissions, or bucket notifications whose episode
    manifests are read from the store. Runs on a pool thread (admission may hash videos)."""

    def __init__(
        self,
        store: ObjectStore,
        submit: Submit,
        producer: Producer,
        dlq_topic: str,
        metrics: JobsMetrics,
        stop: threading.Event,
    ) -> None:
        """submit: (submission, source) → (job status, whether that job already existed)."""
        self.store, self.submit, self.producer = store, submit, producer
        self.dlq_topic, self.metrics, self.stop = dlq_topic, metrics, stop

    def admit(self, record: Record) -> None:
        """Submit the record's episodes; a refusal is dead-lettered. Once the service stops, the
        record may be left unfinished: the caller then leaves it uncommitted."""
        try:
            source, what = parse_record(record.value)
            if isinstance(what, jobs_pb2.EpisodeSubmission):
                self._submit(record, lambda: what, source, "")
            else:
                for event in what:
                    name = f"s3://{event.bucket}/{event.key}"
                    self._submit(record, functools.partial(self._from_event, event), source, name)
        except TransientError as exc:
            if self.stop.is_set():
                log.info(
                    "ingest record %s@%d left for redelivery: %s", record.topic, record.offset, exc
                )
                return  # not done, so not committed: admitted again after the restart
            self._reject(record, exc, "")
        except DubsetError as exc:
            self._reject(record, exc, "")
        except Exception as exc:
            log.exception("ingest record %s@%d failed", record.topic, record.offset)
            self._reject(record, exc, "")

    def _from_event(self, event: ObjectEvent) -> jobs_pb2.EpisodeSubmission:
        return submission_from_manifest(self.store, store_key(self.store, event))

    def _submit(
        self,
        record: Record,
        make: Callable[[], jobs_pb2.EpisodeSubmission],
        source: str,
        name: str,
    ) -> None:
        while True:
            try:
                status, existing = self.submit(make(), source)
                log.info(
                    "ingested %s as job %s (existing: %s)",
                    name or "a submission",
                    status.job_id,
                    existing,
                )
                return
            except TransientError as exc:
                if self.stop.wait(2.0):
                    raise
                log.warning("ingest of %s waits for the store: %s", name, exc)
            except DubsetError as exc:
                self._reject(record, exc, name)
                return

    def _reject(self, record: Record, exc: Exception, name: str) -> None:
        code = exc.code if isinstance(exc, DubsetError) else "INTERNAL"
        message = f"{name}: {exc}" if name else str(exc)
        reason = "other_bucket" if "bucket" in message and "reads bucket" in message else code
        self.metrics.ingest_rejected.labels(reason.lower()).inc()
        log.warning("ingest record %s@%d refused: %s", record.topic, record.offset, message)
        letter = common_pb2.DeadLetter(
            source_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=(record.key or b"")[:1024],
            value=record.value[:MAX_LETTER_BYTES],
            error_code=code,
            error_message=message[:4096],
            attempts=1,
        )
        producer = self.producer
        retrying(
            lambda: producer.publish(self.dlq_topic, record.key, letter.SerializeToString()),
            self.stop,
        )


def parse_record(value: bytes) -> tuple[str, jobs_pb2.EpisodeSubmission | list[ObjectEvent]]:
    """("ingest", submission) or ("minio", manifest events); InvalidInputError otherwise."""
    doc = as_json_object(value)
    if doc is not None:
        note = parse_notification(doc)
        return "minio", list(note.manifests)
    sub = jobs_pb2.EpisodeSubmission()
    try:
        sub.ParseFromString(value)
    except DecodeError:
        raise InvalidInputError(
            "record is neither an EpisodeSubmission nor a JSON bucket notification"
        ) from None
    if not sub.ja_media.uri and not sub.en_media.uri:
        raise InvalidInputError("record is an empty EpisodeSubmission (no media)")
    return "ingest", sub


def store_key(store: ObjectStore, event: ObjectEvent) -> str:
    """The event's object as a key of this store; another bucket is refused."""
    bucket = getattr(store, "bucket", None)
    if bucket is None:
        raise InvalidInputError(
            f"notification for s3://{event.bucket}/{event.key}, but this jobs service uses a "
            "local object store; bucket notifications need DUBSET_STORE=s3"
        )
    if event.bucket != bucket:
        raise InvalidInputError(
            f"notification for bucket {event.bucket!r}, but this jobs service reads bucket "
            f"{bucket!r}; point the bucket's notification at the jobs service of that bucket"
        )
    return store.key_of(f"s3://{event.bucket}/{event.key}")


def submission_from_manifest(store: ObjectStore, key: str) -> jobs_pb2.EpisodeSubmission:
    """Read and validate an uploaded manifest (and its show file) into a submission."""
    manifest = parse_manifest(store.get_bytes(key, max_bytes=MAX_MANIFEST_BYTES), key)
    show = manifest.show
    if manifest.show_key is not None:
        raw = store.get_bytes(manifest.show_key, max_bytes=MAX_MANIFEST_BYTES)
        show = load_object(raw, f"show file {manifest.show_key}", InvalidInputError)
    assert show is not None
    sub = jobs_pb2.EpisodeSubmission(episode_number=manifest.episode_number)
    sub.show.CopyFrom(show_to_proto({k: v for k, v in show.items() if k != "episodes"}))
    sub.episode.CopyFrom(episode_info_to_proto(manifest.episode))
    sub.ja_media.uri = store.uri(manifest.ja_key)
    if manifest.kind == "dub":
        sub.options.kind = jobs_pb2.JOB_KIND_DUB
    else:
        sub.en_media.uri = store.uri(manifest.en_key)
    sub.options.dataset = manifest.dataset
    sub.options.labels.update(manifest.labels)
    if not manifest.run_tts:  # only an explicit false: unset means on
        sub.options.run_tts = False
    if not manifest.run_faces:
        sub.options.run_faces = False
    if not manifest.run_quality:
        sub.options.run_quality = False
    if manifest.tracks:
        params = media_pb2.MediaParams()
        for name, index in manifest.tracks.items():
            lang, what = name.split("_", 1)
            field = "stream_index" if what == "track" else "subtitle_stream"
            setattr(params, f"{lang}_{field}", index)
        sub.options.stage_params["media"].Pack(params)
    for lang, subtitles_key in manifest.subtitles.items():
        getattr(sub, f"{lang}_subtitles").uri = store.uri(subtitles_key)
    sub.options.labels["manifest"] = store.uri(key)
    return sub
