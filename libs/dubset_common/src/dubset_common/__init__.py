"""Shared library of the dubset services."""
