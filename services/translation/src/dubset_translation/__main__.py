"""Run the translation service: `python -m dubset_translation serve|worker`."""

from __future__ import annotations

import sys

from dubset_common.service import run_pure_stage_service
from dubset_translation import STAGE
from dubset_translation.server import start
from dubset_translation.worker import build_worker


def main(argv: list[str] | None = None) -> int:
    return run_pure_stage_service(STAGE, start, build_worker, argv)


if __name__ == "__main__":
    sys.exit(main())
