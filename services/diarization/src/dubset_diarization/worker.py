"""Kafka worker of the diarization stage: requests topic in, turns.json + RTTM to S3, result out."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from dubset_common.bus import Bus
from dubset_common.config import Settings
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import ObjectStore
from dubset_common.runner import StageExecutor
from dubset_common.worker import StageWorker
from dubset_diarization import STAGE
from dubset_diarization.handler import MAX_INPUT_BYTES, Backends, DiarizationStage


def build_worker(
    settings: Settings,
    store: ObjectStore,
    bus: Bus,
    registry: CollectorRegistry,
    backends: Backends | None = None,
) -> StageWorker:
    executor = StageExecutor(
        DiarizationStage(backends),
        store,
        StageMetrics.create(registry, STAGE),
        max_input_bytes=MAX_INPUT_BYTES,
        pause_before_manifest_s=settings.debug_pause_before_manifest_s,
    )
    return StageWorker(
        executor,
        bus,
        max_attempts=settings.max_attempts,
        backoff_s=settings.retry_backoff_s,
        topic_prefix=settings.topic_prefix,
    )
