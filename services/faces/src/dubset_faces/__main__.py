"""Run the faces service: `python -m dubset_faces serve|worker`."""

from __future__ import annotations

import sys

from dubset_common.service import run_stage_service
from dubset_faces import STAGE
from dubset_faces.server import start
from dubset_faces.worker import build_worker


def main(argv: list[str] | None = None) -> int:
    return run_stage_service(STAGE, start, build_worker, argv)


if __name__ == "__main__":
    sys.exit(main())
