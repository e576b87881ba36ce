"""Topic names: one noun per stage, versioned."""

from __future__ import annotations

INGEST = "dubset.ingest.v1"
JOBS_STATE = "dubset.jobs.state.v1"
PROGRESS = "dubset.progress.v1"


def requests(stage: str, prefix: str = "") -> str:
    return f"{prefix}dubset.{stage}.requests.v1"


def results(stage: str, prefix: str = "") -> str:
    return f"{prefix}dubset.{stage}.results.v1"


def dlq(stage: str, prefix: str = "") -> str:
    return f"{prefix}dubset.{stage}.dlq.v1"


def ingest(prefix: str = "") -> str:
    """External episode submissions (EpisodeSubmission or S3 bucket notifications)."""
    return f"{prefix}{INGEST}"


def jobs_state(prefix: str = "") -> str:
    """The compacted job state topic, keyed by job id."""
    return f"{prefix}{JOBS_STATE}"


def progress(prefix: str = "") -> str:
    """Workers' StageProgressEvents, keyed by episode id."""
    return f"{prefix}{PROGRESS}"
