"""Topic names: one noun per stage, versioned."""

from __future__ import annotations

INGEST = "dubset.ingest.v1"
JOBS_STATE = "dubset.jobs.state.v1"


def requests(stage: str, prefix: str = "") -> str:
    return f"{prefix}dubset.{stage}.requests.v1"


def results(stage: str, prefix: str = "") -> str:
    return f"{prefix}dubset.{stage}.results.v1"


def dlq(stage: str, prefix: str = "") -> str:
    return f"{prefix}dubset.{stage}.dlq.v1"
