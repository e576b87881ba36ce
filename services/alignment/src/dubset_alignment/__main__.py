"""Run the alignment service: `python -m dubset_alignment serve|worker`."""

from __future__ import annotations

import sys

from dubset_alignment import STAGE
from dubset_alignment.server import start
from dubset_alignment.worker import build_worker
from dubset_common.service import run_pure_stage_service


def main(argv: list[str] | None = None) -> int:
    return run_pure_stage_service(STAGE, start, build_worker, argv)


if __name__ == "__main__":
    sys.exit(main())
