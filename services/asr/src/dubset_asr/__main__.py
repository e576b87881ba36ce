"""Run the asr service: `python -m dubset_asr serve|worker`."""

from __future__ import annotations

import sys

from dubset_asr import STAGE
from dubset_asr.server import start
from dubset_asr.worker import build_worker
from dubset_common.service import run_stage_service


def main(argv: list[str] | None = None) -> int:
    return run_stage_service(STAGE, start, build_worker, argv)


if __name__ == "__main__":
    sys.exit(main())
