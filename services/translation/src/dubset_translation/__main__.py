"""Run the translation service: `python -m dubset_translation serve|worker`."""

from __future__ import annotations

import sys

from dubset_common.service import run_service
from dubset_common.wiring import build_bus, build_store
from dubset_translation import STAGE
from dubset_translation.server import start
from dubset_translation.worker import build_worker


def main(argv: list[str] | None = None) -> int:
    return run_service(
        STAGE,
        lambda s, r: start(s.grpc_addr, r),
        lambda s, r: build_worker(s, build_store(s), build_bus(s), r),
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
