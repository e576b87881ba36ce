"""Kafka worker of the quality stage: requests in, the quality fragment to S3, result out."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from dubset_common.bus import Bus
from dubset_common.config import Settings
from dubset_common.objstore import ObjectStore
from dubset_common.service import stage_worker
from dubset_common.worker import StageWorker
from dubset_quality.handler import MAX_INPUT_BYTES, QualityStage


def build_worker(
    settings: Settings, store: ObjectStore, bus: Bus, registry: CollectorRegistry
) -> StageWorker:
    return stage_worker(
        QualityStage(), settings, store, bus, registry, max_input_bytes=MAX_INPUT_BYTES
    )
