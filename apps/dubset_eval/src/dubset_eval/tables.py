"""Plain-text tables of fixed width: cell formats, shortened paths and a table spec per row kind."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

WIDTH = 100  # columns of a table line
MIN_SOURCE_WIDTH = 16
_HEX_KEY = re.compile(r"[0-9a-f]{64}")

Row = TypeVar("Row")


def percent(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def decibels(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def millis(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0f}"


def seconds(ms: int) -> str:
    return f"{ms / 1000:.2f}"


def _numeric(cell: str) -> bool:
    return cell == "n/a" or cell[:1].isdigit() or cell[:1] in "+-"


def short_source(source: str, width: int) -> str:
    """A result's path for the tables: content keys cut to 8 hex digits, the stages/ prefix
    dropped, then leading folders replaced by "…/" until it fits width (the JSON report keeps
    the whole path)."""
    parts = [p[:8] if _HEX_KEY.fullmatch(p) else p for p in source.split("/")]
    if parts[0] == "stages" and len(parts) > 1:
        parts = parts[1:]
    whole = "/".join(parts)
    for i in range(len(parts)):
        short = ("…/" if i else "") + "/".join(parts[i:])
        if len(short) <= width:
            return short
    keep = max(width - 1, 2)
    return whole[: keep // 2] + "…" + whole[len(whole) - (keep - keep // 2) :]


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to width; numeric columns right-aligned, the others left-aligned. The
    first column is a result's path, shortened (short_source) so that a line fits WIDTH."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    budget = WIDTH - 2 - sum(widths[1:]) - 2 * (len(widths) - 1)
    rows = [[short_source(r[0], max(budget, MIN_SOURCE_WIDTH)), *r[1:]] for r in rows]
    widths[0] = max(len(r[0]) for r in [headers, *rows])
    right = [all(_numeric(r[i]) for r in rows) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        )
        return ("  " + "  ".join(padded)).rstrip()

    return [title, line(headers), *(line(r) for r in rows), ""]


@dataclass(frozen=True)
class Table(Generic[Row]):
    """One kind of row as a table: its title, its column headers and a row's cells (the first
    cell is the row's source path)."""

    title: str
    headers: tuple[str, ...]
    cells: Callable[[Row], list[str]]

    def lines(self, rows: Sequence[Row]) -> list[str]:
        """The table followed by a blank line; nothing at all without rows."""
        return table(self.title, self.headers, [self.cells(r) for r in rows]) if rows else []
