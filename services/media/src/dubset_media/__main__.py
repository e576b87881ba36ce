"""Run the media service: `python -m dubset_media serve|worker`."""

from __future__ import annotations

import sys

from dubset_common.service import run_stage_service
from dubset_common.tools import ToolError
from dubset_media import STAGE
from dubset_media.server import start
from dubset_media.worker import build_worker


def main(argv: list[str] | None = None) -> int:
    return run_stage_service(STAGE, start, build_worker, argv, startup_errors=(ToolError,))


if __name__ == "__main__":
    sys.exit(main())
