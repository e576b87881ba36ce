"""Typed failures shared by every stage, mapped once to gRPC codes and job errors."""

from __future__ import annotations


class DubsetError(Exception):
    """Base of every error dubset raises on purpose."""

    code = "INTERNAL"
    retryable = False


class InvalidInputError(DubsetError):
    """The input can never succeed: malformed, inconsistent or hostile. Not retried."""

    code = "INVALID_INPUT"


class NotFoundError(DubsetError):
    """A referenced object does not exist."""

    code = "NOT_FOUND"


class IntegrityError(DubsetError):
    """An object's bytes do not match the checksum it was referenced with."""

    code = "INTEGRITY"


class TransientError(DubsetError):
    """A dependency failed in a way that may pass (network, broker, store). Retried."""

    code = "UNAVAILABLE"
    retryable = True


class ConfigError(DubsetError):
    """A required setting is missing or invalid."""

    code = "CONFIG"
