"""The JSON documents a stage is given: bytes to an object, or the stage's input error."""

from __future__ import annotations

import json


def load_object(data: bytes, what: str, input_error: type[Exception]) -> dict[str, object]:
    """A JSON object from bytes, or input_error naming the document `what`."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise input_error(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise input_error(f"{what} must be a JSON object, not {type(value).__name__}")
    return value
