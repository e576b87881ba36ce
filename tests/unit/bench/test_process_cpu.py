"""pipeline_bench's per-process CPU accounting (read from /proc)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

pipeline_bench = pytest.importorskip("pipeline_bench")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_process_cpu_grows_with_work_and_gone_processes_are_left_out() -> None:
    pids = {"me": os.getpid(), "gone": 2**22 + 7}
    before = pipeline_bench.process_cpu_s(pids)
    assert set(before) == {"me"}
    total = 0
    for i in range(3_000_000):  # ~0.2 s of CPU
        total += i * i
    after = pipeline_bench.process_cpu_s(pids)
    spent = pipeline_bench.cpu_delta(before, after)
    assert spent["me"] > 0.05 and total > 0
    assert list(pipeline_bench.cpu_delta({"a": 1.0, "b": 1.0}, {"a": 2.0, "b": 5.0})) == ["b", "a"]
