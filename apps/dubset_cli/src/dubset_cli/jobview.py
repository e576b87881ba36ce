"""Jobs as text: a status block with one progress bar per stage, and one-line summaries."""

from __future__ import annotations

import json
import time
from typing import TextIO

from google.protobuf import json_format

from dubset.v1 import jobs_pb2

BAR_WIDTH = 24
TERMINAL = frozenset(
    {jobs_pb2.JOB_STATE_SUCCEEDED, jobs_pb2.JOB_STATE_FAILED, jobs_pb2.JOB_STATE_CANCELLED}
)


def state_name(state: int) -> str:
    return str(jobs_pb2.JobState.Name(state)).removeprefix("JOB_STATE_")  # type: ignore[arg-type]


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    done = max(0.0, min(1.0, fraction))
    filled = round(done * width)
    return "#" * filled + "-" * (width - filled)


def stage_lines(job: jobs_pb2.JobStatus) -> list[str]:
    lines = []
    for s in job.stages:
        fraction = 1.0 if s.state == "DONE" else s.fraction
        note = f"  {s.message}" if s.message else ""
        lines.append(f"  {s.stage:<15} {s.state:<8} [{bar(fraction)}] {fraction * 100:5.1f}%{note}")
    return lines


def describe(job: jobs_pb2.JobStatus) -> list[str]:
    """The block `dubset status` prints and `dubset watch` redraws."""
    lines = [f"job {job.job_id}  episode {job.episode_id}  {state_name(job.state)}"]
    lines += stage_lines(job)
    if job.state == jobs_pb2.JOB_STATE_FAILED:
        lines.append(f"  failed at {job.error_stage or '?'}: {job.error_code}: {job.error_reason}")
    if job.state == jobs_pb2.JOB_STATE_SUCCEEDED and job.outputs:
        for name in sorted(job.outputs):
            if name.startswith(("packaging/", "tts/")):
                lines.append(f"  {name}: {job.outputs[name].uri}")
    return lines


def one_line(job: jobs_pb2.JobStatus) -> str:
    done = sum(1 for s in job.stages if s.state == "DONE")
    updated = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(job.updated_unix_ms / 1000))
    return (
        f"{job.job_id:<40} {state_name(job.state):<10} {done}/{len(job.stages)} stages  "
        f"{updated}Z  {job.episode_id}"
    )


def as_json(job: jobs_pb2.JobStatus) -> str:
    value = json_format.MessageToDict(job, preserving_proto_field_name=True)
    return json.dumps(value, indent=2, sort_keys=True)


class LiveView:
    """Redraws a job's block in place on a terminal; prints changed stage lines otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self._drawn = 0
        self._seen: dict[str, str] = {}

    def show(self, job: jobs_pb2.JobStatus) -> None:
        if self.live:
            if self._drawn:
                self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            lines = describe(job)
            self.stream.write("\n".join(lines) + "\n")
            self._drawn = len(lines)
        else:
            for s in job.stages:
                key = f"{s.state} {round(s.fraction * 10)}"
                if self._seen.get(s.stage) != key:
                    self._seen[s.stage] = key
                    self.stream.write(f"{s.stage:<15} {s.state:<8} {s.fraction * 100:5.1f}%\n")
            if job.state in TERMINAL:
                self.stream.write("\n".join(describe(job)) + "\n")
        self.stream.flush()
