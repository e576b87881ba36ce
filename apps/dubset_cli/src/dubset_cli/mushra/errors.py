"""The one error of the MUSHRA kit and report: bad input, with the reason a person can fix."""

from __future__ import annotations


class KitError(ValueError):
    """A dataset, key or ratings file the MUSHRA commands cannot use."""
