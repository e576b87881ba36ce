"""The whole pipeline in one process: the jobs orchestrator and every stage worker as threads
over an in-process bus and a local-directory store (the distributed code, embedded)."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from dubset.v1 import jobs_pb2
from dubset_common.bus import Bus, InProcBus
from dubset_common.config import Settings, load_settings
from dubset_common.objstore import LocalStore, ObjectStore
from dubset_common.worker import StageWorker

if TYPE_CHECKING:
    from dubset_jobs.orchestrator import Orchestrator

log = logging.getLogger(__name__)

BuildWorker = Callable[[Settings, ObjectStore, Bus, CollectorRegistry], StageWorker]
JOIN_TIMEOUT_S = 30.0


def stage_builders() -> dict[str, BuildWorker]:
    """Every stage's worker factory (imported here so `dubset --help` stays fast)."""
    from dubset_faces.worker import build_worker as faces
    from dubset_quality.worker import build_worker as quality

    from dubset_alignment.worker import build_worker as alignment
    from dubset_asr.worker import build_worker as asr
    from dubset_diarization.worker import build_worker as diarization
    from dubset_media.worker import build_worker as media
    from dubset_packaging.worker import build_worker as packaging
    from dubset_render.worker import build_worker as render
    from dubset_separation.worker import build_worker as separation
    from dubset_translation.worker import build_worker as translation
    from dubset_tts.worker import build_worker as tts

    return {
        "media": media,
        "separation": separation,
        "asr": asr,
        "diarization": diarization,
        "alignment": alignment,
        "packaging": packaging,
        "tts": tts,
        "translation": translation,
        "render": render,
        "faces": faces,
        "quality": quality,
    }


def embedded_settings(root: Path, env: Mapping[str, str] | None = None) -> Settings:
    """The DUBSET_* settings (model backends, limits, retries) with the bus and store local."""
    source = {k: v for k, v in (os.environ if env is None else env).items()}
    source.update(
        DUBSET_BUS="inproc",
        DUBSET_STORE="local",
        DUBSET_LOCAL_STORE_DIR=str(root),
        DUBSET_METRICS_PORT="0",
        # One process: a crash ends every stage at once, so there is no next worker to protect.
        DUBSET_MAX_CRASHES="0",
    )
    return load_settings("embedded", source)


@dataclass
class Embedded:
    """A running embedded pipeline; use `embedded(root)` to start and stop it."""

    store: LocalStore
    bus: InProcBus
    registry: CollectorRegistry
    orchestrator: Orchestrator
    workers: list[StageWorker] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def submit(self, submission: jobs_pb2.EpisodeSubmission) -> tuple[jobs_pb2.JobStatus, bool]:
        return self.orchestrator.submit(submission, source="embedded")

    def watch(self, job_id: str) -> Iterator[jobs_pb2.JobStatus]:
        yield from self.orchestrator.watch(job_id)

    def follow(self, submission: jobs_pb2.EpisodeSubmission) -> jobs_pb2.JobStatus:
        """Submit, show the job's stages live on stderr until it ends; its last status."""
        from dubset_cli import jobview

        job, existing = self.submit(submission)
        print(f"job {job.job_id}{' (existing)' if existing else ''}", file=sys.stderr)
        view = jobview.LiveView(sys.stderr)
        for update in self.watch(job.job_id):
            view.show(update)
            job = update
        return job


@contextmanager
def embedded(root: Path, settings: Settings | None = None) -> Iterator[Embedded]:
    """Start the orchestrator and one worker thread per stage over root; stop them on exit."""
    from dubset_jobs.orchestrator import JobsOptions, Orchestrator

    settings = settings or embedded_settings(root)
    store = LocalStore(root)
    bus = InProcBus()
    registry = CollectorRegistry()
    workers = [build(settings, store, bus, registry) for build in stage_builders().values()]
    # In one process the bus answers at once: poll and tick fast.
    options = replace(JobsOptions.from_settings(settings), tick_s=0.05, poll_timeout_s=0.05)
    orchestrator = Orchestrator(bus, store, options, registry)
    running = Embedded(store, bus, registry, orchestrator, workers)
    try:
        for worker in workers:
            thread = threading.Thread(
                target=worker.run, name=f"{worker.executor.stage.name}-worker", daemon=True
            )
            thread.start()
            running.threads.append(thread)
        orchestrator.start()
        yield running
    finally:
        orchestrator.stop()
        for worker in workers:
            worker.stop.set()
        for thread in running.threads:
            thread.join(JOIN_TIMEOUT_S)
