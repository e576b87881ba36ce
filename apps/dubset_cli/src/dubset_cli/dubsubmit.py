"""`dubset dub --submit`: the dub job through the jobs service, the result fetched from S3."""

from __future__ import annotations

import argparse
import sys

import grpc

from dubset.v1 import jobs_pb2, jobs_pb2_grpc
from dubset_cli import jobview
from dubset_cli.connect import find_jobs_server, store_origin, store_settings
from dubset_cli.dub import upload_dub
from dubset_common.errors import DubsetError, TransientError
from dubset_common.grpcauth import client_channel
from dubset_common.objstore import ObjectStore
from dubset_common.wiring import build_store

RPC_TIMEOUT_S = 30.0


def dub_remotely(args: argparse.Namespace) -> tuple[jobs_pb2.JobStatus, ObjectStore]:
    """Upload, submit the dub job, show its stages live until it ends; its last status and the
    store its outputs are in."""
    try:
        store = build_store(store_settings())
        sub = upload_dub(args, store)
    except TransientError as exc:
        raise DubsetError(f"{exc}; {store_origin()}") from None
    server = find_jobs_server(args.server).address
    try:
        with client_channel(server) as channel:
            stub = jobs_pb2_grpc.JobServiceStub(channel)
            reply = stub.SubmitEpisode(
                jobs_pb2.SubmitEpisodeRequest(submission=sub), timeout=RPC_TIMEOUT_S
            )
            note = " (existing)" if reply.existing else ""
            print(f"job {reply.job.job_id}{note} on {server}", file=sys.stderr)
            view, job = jobview.LiveView(sys.stderr), reply.job
            for job in stub.WatchJob(jobs_pb2.WatchJobRequest(job_id=reply.job.job_id)):
                view.show(job)
    except grpc.RpcError as exc:
        code = exc.code().name if hasattr(exc, "code") else "ERROR"
        details = exc.details() if hasattr(exc, "details") else str(exc)
        raise DubsetError(f"the jobs server {server}: {code}: {details}") from None
    return job, store
