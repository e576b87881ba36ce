"""JobService over gRPC: each RPC maps onto the Orchestrator."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
from prometheus_client import CollectorRegistry

from dubset.v1 import jobs_pb2, jobs_pb2_grpc
from dubset_common.grpcmetrics import MetricsInterceptor
from dubset_common.grpcserver import RunningServer, create_server
from dubset_jobs.orchestrator import Orchestrator

SERVICE = "dubset.v1.JobService"


DEFAULT_MAX_WATCHES = 64
SPARE_WORKERS = 16  # threads for unary calls beyond the watches' cap


class JobServicer(jobs_pb2_grpc.JobServiceServicer):
    def __init__(self, orchestrator: Orchestrator, max_watches: int = DEFAULT_MAX_WATCHES) -> None:
        self.orch = orchestrator
        self.max_watches = max_watches
        # Each watch holds a server thread until its job ends or its client goes away.
        self._watches = threading.BoundedSemaphore(max_watches)

    def SubmitEpisode(
        self, request: jobs_pb2.SubmitEpisodeRequest, context: grpc.ServicerContext
    ) -> jobs_pb2.SubmitEpisodeResponse:
        job, existing = self.orch.submit(request.submission, "grpc")
        return jobs_pb2.SubmitEpisodeResponse(job=job, existing=existing)

    def GetJob(
        self, request: jobs_pb2.GetJobRequest, context: grpc.ServicerContext
    ) -> jobs_pb2.JobStatus:
        return self.orch.get(request.job_id)

    def WatchJob(
        self, request: jobs_pb2.WatchJobRequest, context: grpc.ServicerContext
    ) -> Iterator[jobs_pb2.JobStatus]:
        if not self._watches.acquire(blocking=False):
            context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"{self.max_watches} watches are open, the most this service serves; "
                "poll GetJob instead or watch again later",
            )
        try:
            gone = threading.Event()
            # Set when the client goes away or the server stops: the watch then ends.
            if not context.add_callback(gone.set):
                return  # already over
            for status in self.orch.watch(request.job_id, gone):
                if not context.is_active():
                    return
                yield status
        finally:
            self._watches.release()

    def ListJobs(
        self, request: jobs_pb2.ListJobsRequest, context: grpc.ServicerContext
    ) -> jobs_pb2.ListJobsResponse:
        jobs, token = self.orch.list_jobs(
            list(request.states), request.episode_id, request.page_size, request.page_token
        )
        return jobs_pb2.ListJobsResponse(jobs=jobs, next_page_token=token)

    def CancelJob(
        self, request: jobs_pb2.CancelJobRequest, context: grpc.ServicerContext
    ) -> jobs_pb2.JobStatus:
        return self.orch.cancel(request.job_id, request.reason)

    def RetryJob(
        self, request: jobs_pb2.RetryJobRequest, context: grpc.ServicerContext
    ) -> jobs_pb2.JobStatus:
        return self.orch.retry(request.job_id)


def start(
    addr: str,
    orchestrator: Orchestrator,
    registry: CollectorRegistry,
    max_watches: int = DEFAULT_MAX_WATCHES,
) -> RunningServer:
    """Serve JobService on addr ('127.0.0.1:0' picks a free port); at most max_watches
    WatchJob streams at once, with threads to spare for the other calls."""
    servicer = JobServicer(orchestrator, max_watches)
    return create_server(
        addr,
        [SERVICE],
        [lambda server: jobs_pb2_grpc.add_JobServiceServicer_to_server(servicer, server)],
        interceptors=[MetricsInterceptor(registry, "jobs")],
        max_workers=max_watches + SPARE_WORKERS,
    )
