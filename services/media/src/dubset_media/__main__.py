"""Run the media service: `python -m dubset_media serve|worker`."""

from __future__ import annotations

import sys

from dubset_common.service import run_service
from dubset_common.tools import ToolError
from dubset_common.wiring import build_bus, build_store
from dubset_media import STAGE
from dubset_media.server import start
from dubset_media.worker import build_worker


def main(argv: list[str] | None = None) -> int:
    return run_service(
        STAGE,
        lambda s, r: start(s.grpc_addr, build_store(s), r),
        lambda s, r: build_worker(s, build_store(s), build_bus(s), r),
        argv,
        startup_errors=(ToolError,),
    )


if __name__ == "__main__":
    sys.exit(main())
