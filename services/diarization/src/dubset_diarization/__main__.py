"""Run the diarization service: `python -m dubset_diarization serve|worker`."""

from __future__ import annotations

import sys

from dubset_common.service import run_service
from dubset_common.wiring import build_bus, build_store
from dubset_diarization import STAGE
from dubset_diarization.config import load_config
from dubset_diarization.handler import Backends
from dubset_diarization.server import start
from dubset_diarization.worker import build_worker


def main(argv: list[str] | None = None) -> int:
    return run_service(
        STAGE,
        lambda s, r: start(s.grpc_addr, build_store(s), Backends(load_config()), r),
        lambda s, r: build_worker(s, build_store(s), build_bus(s), r, Backends(load_config())),
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
