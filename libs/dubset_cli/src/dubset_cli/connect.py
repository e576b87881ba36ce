"""Where the CLI finds the jobs server and the object store: flags, DUBSET_* env, or `make up`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
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


def jobs_server(flag: str | None, env: Mapping[str, str] | None = None) -> str:
    """--server, else DUBSET_JOBS_SERVER, else the jobs server `make services` started."""
    source = os.environ if env is None else env
    if flag:
        return flag
    if source.get("DUBSET_JOBS_SERVER"):
        return source["DUBSET_JOBS_SERVER"]
    try:
        services = json.loads((run_dir(source) / "services.json").read_text())
        addr = services["jobs-server"]["grpc"]
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_SERVER
    return str(addr) if addr else DEFAULT_SERVER
