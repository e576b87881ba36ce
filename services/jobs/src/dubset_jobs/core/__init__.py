"""The orchestrator's pure core: ids, the episode DAG, the job state machine, ingest parsing."""
