"""dubset_jobs_* Prometheus series, built from a registry passed in."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from dubset_common.metrics import LATENCY_BUCKETS


@dataclass(frozen=True)
class JobsMetrics:
    submitted: Counter
    finished: Counter
    active: Gauge
    stage_seconds: Histogram
    ingest_rejected: Counter
    retries: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> JobsMetrics:
        return cls(
            submitted=Counter(
                "dubset_jobs_submitted",
                "new jobs, by source (grpc, ingest, minio)",
                ["source"],
                registry=registry,
            ),
            finished=Counter(
                "dubset_jobs_finished", "jobs that ended, by state", ["state"], registry=registry
            ),
            active=Gauge("dubset_jobs_active", "jobs pending or running", registry=registry),
            stage_seconds=Histogram(
                "dubset_jobs_stage_seconds",
                "from a stage request sent to its result received",
                ["stage"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            ingest_rejected=Counter(
                "dubset_jobs_ingest_rejected",
                "ingest records that became no job, by reason",
                ["reason"],
                registry=registry,
            ),
            retries=Counter(
                "dubset_jobs_retries", "stage requests re-sent", ["stage"], registry=registry
            ),
        )
