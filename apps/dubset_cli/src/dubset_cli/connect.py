"""Where the CLI finds the jobs server and the object store: flags, DUBSET_* env, or `make up`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dubset_common.config import Settings, load_settings

DEFAULT_SERVER = "127.0.0.1:50051"


def run_dir(env: Mapping[str, str] | None = None) -> Path:
    """The directory `make up` / `make services` write their state to."""
    source = os.environ if env is None else env
    return Path(source.get("DUBSET_RUN_DIR", ".run"))


def _local_infra(env: Mapping[str, str]) -> dict[str, str]:
    try:
        data = json.loads((run_dir(env) / "infra.json").read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def store_settings(env: Mapping[str, str] | None = None) -> Settings:
    """S3 settings from DUBSET_S3_* variables, else from the local `make up` infrastructure."""
    source = dict(os.environ if env is None else env)
    if not source.get("DUBSET_S3_ENDPOINT"):
        source = {**_local_infra(source), **source}
    source.setdefault("DUBSET_BUS", "inproc")
    return load_settings("cli", source)


def store_origin(env: Mapping[str, str] | None = None) -> str:
    """Which S3 the CLI uses, where that came from, and what to change: for error messages."""
    source = os.environ if env is None else env
    keys = "credentials from DUBSET_S3_ACCESS_KEY and DUBSET_S3_SECRET_KEY"
    if source.get("DUBSET_S3_ENDPOINT"):
        where = f"S3 at {source['DUBSET_S3_ENDPOINT']} (from DUBSET_S3_ENDPOINT), {keys}"
    elif _local_infra(source).get("DUBSET_S3_ENDPOINT"):
        infra = run_dir(source) / "infra.json"
        where = f"the local S3 server of `make up` ({infra}); is it still running? `make status`"
    else:
        where = (
            f"AWS S3: no DUBSET_S3_ENDPOINT is set and no `make up` state is in {run_dir(source)}/"
            f"; {keys} (else the AWS_* variables or ~/.aws)"
        )
    return (
        f"the object store is {where}. Start the local servers with `make up`, or set "
        "DUBSET_S3_ENDPOINT, DUBSET_S3_BUCKET, DUBSET_S3_ACCESS_KEY, DUBSET_S3_SECRET_KEY; "
        "for a dataset made by `dubset run`, pass --store with that run's --out folder"
    )


@dataclass(frozen=True)
class ServerAddress:
    """The jobs server to call, and which setting named it."""

    address: str
    origin: str

    def unreachable(self) -> str:
        """What to do when nothing answers at address."""
        return (
            f"no jobs server answers at {self.address} ({self.origin}). Start the local services "
            "with `make up`, or name the server with --server HOST:PORT or DUBSET_JOBS_SERVER"
        )


def find_jobs_server(flag: str | None, env: Mapping[str, str] | None = None) -> ServerAddress:
    """--server, else DUBSET_JOBS_SERVER, else the jobs server `make services` started."""
    source = os.environ if env is None else env
    if flag:
        return ServerAddress(flag, "from --server")
    if source.get("DUBSET_JOBS_SERVER"):
        return ServerAddress(source["DUBSET_JOBS_SERVER"], "from DUBSET_JOBS_SERVER")
    state = run_dir(source) / "services.json"
    try:
        services = json.loads(state.read_text())
        addr = services["jobs-server"]["grpc"]
    except (OSError, ValueError, KeyError, TypeError):
        return ServerAddress(
            DEFAULT_SERVER,
            f"the default: no --server, no DUBSET_JOBS_SERVER, no `make up` state in {state}",
        )
    if not addr:
        return ServerAddress(DEFAULT_SERVER, f"the default: {state} names no jobs server")
    return ServerAddress(str(addr), f"the jobs server `make up` started, from {state}")


def jobs_server(flag: str | None, env: Mapping[str, str] | None = None) -> str:
    return find_jobs_server(flag, env).address
