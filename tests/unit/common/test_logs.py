"""JSON log lines: one object per line, with service and job context, and no secrets."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from dubset_common.logs import JsonFormatter, configure_logging, context_fields, log_context

SECRET = "s3cr3t-Value/42"


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("asr", secrets=(SECRET, 'qu"o\\te-pass', "abc")))
    logger = logging.getLogger("tests.logs.capture")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.handlers.clear()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_one_json_object_per_line_with_service(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    logger.info("first\nline with a newline")
    logger.warning("second %s", "arg")
    first, second = lines(stream)
    assert first["service"] == "asr" and first["level"] == "INFO"
    assert first["message"] == "first\nline with a newline"
    assert first["logger"] == "tests.logs.capture"
    assert str(first["ts"]).endswith("Z")
    assert second["message"] == "second arg" and second["level"] == "WARNING"


def test_log_context_fields_appear_and_nest(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    with log_context(job_id="job-1", episode_id="ep-1"):
        with log_context(stage="asr", request_id="r1", episode_id="ep-2"):
            logger.info("inner")
            assert context_fields() == {
                "job_id": "job-1",
                "episode_id": "ep-2",
                "stage": "asr",
                "request_id": "r1",
            }
        logger.info("outer")
    logger.info("outside")
    inner, outer, outside = lines(stream)
    assert (inner["job_id"], inner["episode_id"], inner["stage"]) == ("job-1", "ep-2", "asr")
    assert (outer["job_id"], outer["episode_id"]) == ("job-1", "ep-1") and "stage" not in outer
    assert "job_id" not in outside and context_fields() == {}


def test_empty_context_values_do_not_erase_outer_ones() -> None:
    with log_context(job_id="job-1"), log_context(job_id=""):
        assert context_fields() == {"job_id": "job-1"}


def test_log_context_is_per_thread(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    with log_context(job_id="main-job"):
        t = threading.Thread(target=lambda: logger.info("from another thread"))
        t.start()
        t.join()
    (line,) = lines(stream)
    assert "job_id" not in line


def test_extra_fields_keep_numbers_and_stringify_the_rest(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture
    logger.info(
        "done", extra={"clips": 12, "seconds": 1.5, "ok": True, "path": ["a", "b"], "none": None}
    )
    (line,) = lines(stream)
    assert line["clips"] == 12 and line["seconds"] == 1.5 and line["ok"] is True
    assert line["path"] == "['a', 'b']" and line["none"] == "None"
    assert "args" not in line and "msg" not in line and "exc_info" not in line


def test_exception_is_one_field(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    try:
        raise ValueError("bad segment 7")
    except ValueError:
        logger.exception("stage crashed")
    (line,) = lines(stream)
    assert line["message"] == "stage crashed" and line["level"] == "ERROR"
    assert "Traceback" in str(line["exc"]) and "ValueError: bad segment 7" in str(line["exc"])


def test_secret_in_message_args_extra_and_context_is_masked(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture
    with log_context(job_id=SECRET):
        logger.info(f"connecting with {SECRET}", extra={"dsn": f"s3://u:{SECRET}@host"})
        logger.info("password %s", SECRET)
    out = stream.getvalue()
    assert SECRET not in out
    first, second = lines(stream)
    assert first["message"] == "connecting with ***" and first["dsn"] == "s3://u:***@host"
    assert second["message"] == "password ***"


def test_secret_in_exception_text_is_masked(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    try:
        raise PermissionError(f"login failed for key {SECRET}")
    except PermissionError:
        logger.exception("store unreachable")
    (line,) = lines(stream)
    assert "PermissionError: login failed for key ***" in str(line["exc"])
    assert SECRET not in stream.getvalue()


def test_secret_that_json_escapes_is_still_masked(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    # A password with a quote or backslash is written escaped; masking must still catch it.
    logger, stream = capture
    secret = 'qu"o\\te-pass'
    try:
        raise RuntimeError(f"auth {secret}")
    except RuntimeError:
        logger.exception("with %s", secret)
    (line,) = lines(stream)
    assert secret not in json.dumps(line) and secret not in str(line)
    assert line["message"] == "with ***"


def test_very_short_secrets_are_not_masked(capture: tuple[logging.Logger, io.StringIO]) -> None:
    # Masking "abc" would shred ordinary words; secrets that short are not worth hiding.
    logger, stream = capture
    logger.info("abcdef")
    (line,) = lines(stream)
    assert line["message"] == "abcdef"


def test_configure_logging_routes_root_to_json() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    noisy = logging.getLogger("botocore")
    saved_noisy = noisy.level
    stream = io.StringIO()
    try:
        configure_logging("tts", "warning", secrets=(SECRET,), stream=stream)
        assert len(root.handlers) == 1
        logging.getLogger("dubset.x").info("hidden")
        logging.getLogger("dubset.x").warning("key=%s", SECRET)
        noisy.warning("shown")
        configure_logging("tts", "info", secrets=(SECRET,), stream=stream)
        assert len(root.handlers) == 1  # calling it again does not duplicate lines
        noisy.info("noisy library chatter")
        logging.getLogger("dubset.x").info("now shown")
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        noisy.setLevel(saved_noisy)
    assert [(x["message"], x["service"]) for x in lines(stream)] == [
        ("key=***", "tts"),
        ("shown", "tts"),
        ("now shown", "tts"),
    ]
