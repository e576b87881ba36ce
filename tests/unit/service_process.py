"""A service process started the way an operator would, for tests of its entry point."""

from __future__ import annotations

import os
import subprocess
import sys


def run_without_settings(package: str) -> subprocess.CompletedProcess[str]:
    """`python -m <package> worker` with no DUBSET_* variable set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBSET_")}
    return subprocess.run(
        [sys.executable, "-m", package, "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
