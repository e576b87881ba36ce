"""Progress on stderr: a live bar on a terminal, one line per step otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30


class Progress:
    """Callable as `hook(step, fraction)`; steps may repeat, fractions only move forward."""

    def __init__(self, stream: TextIO | None = None, *, min_interval_s: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.min_interval_s = min_interval_s
        self._step = ""
        self._started = time.monotonic()
        self._step_started = self._started
        self._last_draw = 0.0

    def __call__(self, step: str, fraction: float) -> None:
        now = time.monotonic()
        if step != self._step:
            self._finish_step(now)
            self._step, self._step_started = step, now
            if not self.live:
                self.stream.write(f"{step} ...\n")
                self.stream.flush()
        if self.live and (fraction >= 1.0 or now - self._last_draw >= self.min_interval_s):
            self._draw(fraction, now)

    def close(self) -> None:
        self._finish_step(time.monotonic())

    def _draw(self, fraction: float, now: float) -> None:
        done = max(0.0, min(1.0, fraction))
        filled = round(done * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        elapsed = now - self._step_started
        self.stream.write(f"\r{self._step:<14} [{bar}] {done * 100:5.1f}%  {elapsed:6.1f}s")
        self.stream.flush()
        self._last_draw = now

    def _finish_step(self, now: float) -> None:
        if not self._step:
            return
        elapsed = now - self._step_started
        if self.live:
            self._draw(1.0, now)
            self.stream.write("\n")
        else:
            self.stream.write(f"{self._step} done in {elapsed:.1f}s\n")
        self.stream.flush()
        self._step = ""
