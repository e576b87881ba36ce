"""Run the render service: `python -m dubset_render serve|worker`."""

from __future__ import annotations

import sys

from dubset_common.service import run_stage_service
from dubset_render import STAGE
from dubset_render.server import start
from dubset_render.worker import build_worker


def main(argv: list[str] | None = None) -> int:
    return run_stage_service(STAGE, start, build_worker, argv)


if __name__ == "__main__":
    sys.exit(main())
