"""The two ways scoring fails: bad input (exit 2) and a malformed result file (a defect)."""

from __future__ import annotations


class EvalInputError(ValueError):
    """The truth is unreadable or invalid, PATH is missing, or nothing in it is recognised."""


class ResultFormatError(ValueError):
    """A recognised result file is malformed; reported as a defect, the rest is still scored."""
