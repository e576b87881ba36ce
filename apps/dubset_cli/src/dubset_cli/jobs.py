"""`dubset submit|status|watch|jobs|cancel|retry`: the JobService from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import grpc

from dubset.v1 import jobs_pb2, jobs_pb2_grpc
from dubset_cli import jobview
from dubset_cli.connect import find_jobs_server, store_origin, store_settings
from dubset_cli.release import (
    add_release_arguments,
    attach_subtitles,
    choose_tracks,
    episode_number,
    release_of,
)
from dubset_cli.upload import add_tts_arguments, read_show, submission, upload
from dubset_common.errors import DubsetError, TransientError
from dubset_common.grpcauth import client_channel
from dubset_common.wiring import build_store

RPC_TIMEOUT_S = 30.0


def _server_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--server",
        help="jobs server HOST:PORT (default: $DUBSET_JOBS_SERVER, else the one `make services` "
        "started, else 127.0.0.1:50051)",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "submit",
        help="upload an episode pair to S3 and submit it to the jobs service",
        description="Uploads the two videos to the object store (DUBSET_S3_* settings, or the "
        "local `make up` S3 server), then calls JobService.SubmitEpisode.",
    )
    p.add_argument("--show", required=True, type=Path, help="show.json (Anim-400K show object)")
    add_release_arguments(p)
    p.add_argument("--dataset", default="", help="dataset name (default: default)")
    p.add_argument("--watch", action="store_true", help="then follow the job until it ends")
    add_tts_arguments(p)
    _server_flag(p)
    p.set_defaults(func=_submit)

    for name, help_text, func in (
        ("status", "show one job's state and stages", _status),
        ("watch", "follow a job with a live progress bar per stage until it ends", _watch),
        ("cancel", "stop a pending or running job", _cancel),
        ("retry", "run a failed or cancelled job again (finished stages are reused)", _retry),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("job", help="job id")
        if name == "status":
            p.add_argument("--json", action="store_true", help="the JobStatus as JSON")
        _server_flag(p)
        p.set_defaults(func=func)

    p = sub.add_parser("jobs", help="list jobs, newest first")
    p.add_argument(
        "--state",
        action="append",
        choices=["pending", "running", "succeeded", "failed", "cancelled"],
        help="only jobs in this state (repeatable)",
    )
    p.add_argument("--episode-id", default="", help="only this episode's jobs")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    _server_flag(p)
    p.set_defaults(func=_list)


def _stub(args: argparse.Namespace) -> tuple[grpc.Channel, jobs_pb2_grpc.JobServiceStub]:
    channel = client_channel(find_jobs_server(args.server).address)
    return channel, jobs_pb2_grpc.JobServiceStub(channel)


def _call(prog: str, args: argparse.Namespace, body: Callable[[], int]) -> int:
    """Run body; a refused request or an unreachable server is one line and exit 2."""
    try:
        return body()
    except grpc.RpcError as exc:
        code = exc.code() if hasattr(exc, "code") else None
        details = exc.details() if hasattr(exc, "details") else str(exc)
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            details = f"{find_jobs_server(args.server).unreachable()} [{details}]"
        print(f"dubset {prog}: {code.name if code else 'ERROR'}: {details}", file=sys.stderr)
        return 2
    except DubsetError as exc:
        print(f"dubset {prog}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _submit(args: argparse.Namespace) -> int:
    def body() -> int:
        release = release_of(args)
        show = read_show(args.show)
        number = episode_number(show, release.number)
        try:
            store = build_store(store_settings())
            if release.one_file:
                print("uploading the release ...", file=sys.stderr)
                ja = en = upload(store, release.ja, "the release")
            else:
                print("uploading the JA video ...", file=sys.stderr)
                ja = upload(store, release.ja, "the JA video")
                print("uploading the EN video ...", file=sys.stderr)
                en = upload(store, release.en, "the EN video")
        except TransientError as exc:
            raise DubsetError(f"{exc}; {store_origin()}") from None
        sub = submission(
            show, number, ja, en, dataset=args.dataset, tts=not args.no_tts,
            tts_backend=args.tts_backend, faces=not args.no_faces,
            quality=not args.no_quality,
        )  # fmt: skip
        choose_tracks(sub, release)
        try:
            attach_subtitles(sub, release, store)
        except TransientError as exc:
            raise DubsetError(f"{exc}; {store_origin()}") from None
        channel, stub = _stub(args)
        with channel:
            reply = stub.SubmitEpisode(
                jobs_pb2.SubmitEpisodeRequest(submission=sub), timeout=RPC_TIMEOUT_S
            )
            note = " (an identical submission already had this job)" if reply.existing else ""
            print(reply.job.job_id)
            print(f"submitted episode {reply.job.episode_id}{note}", file=sys.stderr)
            if args.watch:
                return _follow(stub, reply.job.job_id)
        return 0

    return _call("submit", args, body)


def _status(args: argparse.Namespace) -> int:
    def body() -> int:
        channel, stub = _stub(args)
        with channel:
            job = stub.GetJob(jobs_pb2.GetJobRequest(job_id=args.job), timeout=RPC_TIMEOUT_S)
        print(jobview.as_json(job) if args.json else "\n".join(jobview.describe(job)))
        return 0

    return _call("status", args, body)


def _follow(stub: jobs_pb2_grpc.JobServiceStub, job_id: str) -> int:
    view = jobview.LiveView(sys.stderr)
    last: jobs_pb2.JobStatus | None = None
    for job in stub.WatchJob(jobs_pb2.WatchJobRequest(job_id=job_id)):
        view.show(job)
        last = job
    if last is None:
        return 2
    return 0 if last.state == jobs_pb2.JOB_STATE_SUCCEEDED else 1


def _watch(args: argparse.Namespace) -> int:
    def body() -> int:
        channel, stub = _stub(args)
        with channel:
            return _follow(stub, args.job)

    return _call("watch", args, body)


def _cancel(args: argparse.Namespace) -> int:
    return _change(
        "cancel",
        args,
        lambda stub: stub.CancelJob(
            jobs_pb2.CancelJobRequest(job_id=args.job), timeout=RPC_TIMEOUT_S
        ),
    )


def _retry(args: argparse.Namespace) -> int:
    return _change(
        "retry",
        args,
        lambda stub: stub.RetryJob(
            jobs_pb2.RetryJobRequest(job_id=args.job), timeout=RPC_TIMEOUT_S
        ),
    )


def _change(
    prog: str,
    args: argparse.Namespace,
    rpc: Callable[[jobs_pb2_grpc.JobServiceStub], jobs_pb2.JobStatus],
) -> int:
    """Cancel or retry: one RPC that returns the job, printed as `dubset status` does."""

    def body() -> int:
        channel, stub = _stub(args)
        with channel:
            job = rpc(stub)
        print("\n".join(jobview.describe(job)))
        return 0

    return _call(prog, args, body)


def _list(args: argparse.Namespace) -> int:
    states = [getattr(jobs_pb2, f"JOB_STATE_{s.upper()}") for s in args.state or []]

    def body() -> int:
        channel, stub = _stub(args)
        shown, token = 0, ""
        with channel:
            while shown < args.limit:
                reply = stub.ListJobs(
                    jobs_pb2.ListJobsRequest(
                        page_size=min(100, args.limit - shown),
                        page_token=token,
                        states=states,
                        episode_id=args.episode_id,
                    ),
                    timeout=RPC_TIMEOUT_S,
                )
                for job in reply.jobs:
                    print(jobview.one_line(job))
                shown += len(reply.jobs)
                token = reply.next_page_token
                if not token or not reply.jobs:
                    break
        return 0

    return _call("jobs", args, body)
