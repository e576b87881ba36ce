"""dubset jobs: episode submissions, the per-episode orchestrator and job state."""

STAGE = "jobs"
