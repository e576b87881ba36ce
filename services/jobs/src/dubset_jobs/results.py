"""Stage results and progress as events of their jobs; the media offset from a result's facts."""

from __future__ import annotations

import json
import logging

from dubset.v1 import common_pb2
from dubset_common.errors import DubsetError
from dubset_common.keys import sha256_hex
from dubset_common.objstore import ObjectStore
from dubset_jobs import convert
from dubset_jobs.core import events
from dubset_jobs.core.model import Job
from dubset_jobs.stepper import Stepper

log = logging.getLogger(__name__)
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


class StageResults:
    """What the consumer loop hands over from the results and progress topics."""

    def __init__(self, stepper: Stepper, store: ObjectStore) -> None:
        self.stepper, self.store = stepper, store

    def on_result(self, result: common_pb2.StageResult) -> None:
        table = self.stepper.table
        with table.cond:
            job = table.jobs.get(result.job_id)
        if job is None:
            return  # not ours (another deployment's) or long gone
        offset = convert.ja_offset_of(result)
        if offset is None and _needs_manifest(job, result):
            offset = self._manifest_offset(result)
        self.stepper.step(result.job_id, convert.answer_of(result, offset))

    def on_progress(self, event: common_pb2.StageProgressEvent) -> None:
        table = self.stepper.table
        with table.cond:
            if event.job_id not in table.jobs:
                return
        p = event.progress
        self.stepper.step(event.job_id, events.Progress(event.request_id, p.fraction, p.message))

    def _manifest_offset(self, result: common_pb2.StageResult) -> int | None:
        """ja_offset_ms from the media stage's manifest info (checked against its sha256)."""

        def read() -> bytes:
            key = self.store.key_of(result.manifest.uri)
            return self.store.get_bytes(key, max_bytes=MAX_MANIFEST_BYTES)

        try:
            raw = self.stepper.retrying(read)
        except DubsetError as exc:
            log.error("media manifest %s unreadable: %s", result.manifest.uri, exc)
            return None
        if result.manifest.sha256 and sha256_hex(raw) != result.manifest.sha256:
            log.error("media manifest %s does not match its sha256", result.manifest.uri)
            return None
        info = json.loads(raw).get("info", {})
        value = info.get("ja_offset_ms") if isinstance(info, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None


def _needs_manifest(job: Job, result: common_pb2.StageResult) -> bool:
    """Only a media result without facts (a worker, or reused work, from before facts existed)
    sends us to its manifest, and only while the job still waits for it."""
    return (
        result.stage == "media"
        and result.status == common_pb2.STAGE_STATUS_OK
        and not result.HasField("facts")
        and not job.terminal
        and any(t.request_id == result.request_id for t in job.tasks)
    )
