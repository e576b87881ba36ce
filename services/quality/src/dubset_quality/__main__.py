"""Run the quality service: `python -m dubset_quality serve|worker`."""

from __future__ import annotations

import sys

from dubset_common.service import run_stage_service
from dubset_quality import STAGE
from dubset_quality.server import start
from dubset_quality.worker import build_worker


def main(argv: list[str] | None = None) -> int:
    return run_stage_service(STAGE, start, build_worker, argv)


if __name__ == "__main__":
    sys.exit(main())
