"""`dubset mushra` and `dubset mushra-report`: a MUSHRA listening test of the baseline dubs."""

from __future__ import annotations

from dubset_cli.mushra.cli import register

__all__ = ["register"]
