"""Kafka worker of the tts stage: requests topic in, baseline mp3s + fragment to S3, result out."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from dubset_common.bus import Bus
from dubset_common.config import Settings
from dubset_common.objstore import ObjectStore
from dubset_common.service import stage_worker
from dubset_common.worker import StageWorker
from dubset_tts.handler import MAX_INPUT_BYTES, TtsStage
from dubset_tts.metrics import TtsMetrics
from dubset_tts.models import Models


def build_worker(
    settings: Settings,
    store: ObjectStore,
    bus: Bus,
    registry: CollectorRegistry,
    models: Models | None = None,
) -> StageWorker:
    stage = TtsStage(models, TtsMetrics.create(registry))
    return stage_worker(stage, settings, store, bus, registry, max_input_bytes=MAX_INPUT_BYTES)
