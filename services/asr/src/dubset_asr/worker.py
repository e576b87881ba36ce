"""Kafka worker of the asr stage: requests topic in, transcript.json to S3, result out."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from dubset_asr import STAGE
from dubset_asr.handler import MAX_INPUT_BYTES, AsrStage, BackendLoader, default_loader
from dubset_common.bus import Bus
from dubset_common.config import Settings
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import ObjectStore
from dubset_common.runner import StageExecutor
from dubset_common.worker import StageWorker


def build_worker(
    settings: Settings,
    store: ObjectStore,
    bus: Bus,
    registry: CollectorRegistry,
    loader: BackendLoader = default_loader,
) -> StageWorker:
    executor = StageExecutor(
        AsrStage(loader),
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
