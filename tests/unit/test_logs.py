"""Logging set up in one place: JSON lines in production, text elsewhere, LOG_LEVEL and LOG_FORMAT; the send, company
and row a line is about as fields; a storm of identical errors condensed to one line and a count."""
import io
import json
import logging

import pytest

from kivra import logs
from kivra.config import load_config


def record(message="kivra %s attempt %d: %s", args=("POST /v2/x", 1, "boom"), name="kivra.sender_api.client",
           level=logging.WARNING, exc=None, **extra) -> logging.LogRecord:
    rec = logging.LogRecord(name, level, __file__, 1, message, args, None)
    if exc is not None:
        try:
            raise exc
        except Exception:  # noqa: BLE001
            import sys
            rec.exc_info = sys.exc_info()
    rec.__dict__.update(extra)
    return rec


def configured(config: dict) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger("test.logs")
    logs.configure(config, stream=stream, logger=logger)
    return logger, stream


@pytest.fixture(autouse=True)
def clean_test_logger():
    yield
    logger = logging.getLogger("test.logs")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)


def test_production_logs_json_lines_with_time_level_logger_message_and_fields():
    logger, stream = configured({"APP_ENV": "production", "LOG_LEVEL": "INFO", "LOG_FORMAT": None})
    logger.info("send finished: %s", "delivered=3", extra={"send_id": 7, "company_id": 2,
                                                          "outcomes": {"delivered": 3}})
    with logs.log_context(dispatch_id=41, send_id=8):
        logger.warning("kivra POST attempt %d", 2)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "INFO" and first["logger"] == "test.logs"
    assert first["message"] == "send finished: delivered=3"
    assert (first["send_id"], first["company_id"], first["outcomes"]) == (7, 2, {"delivered": 3})
    assert first["time"].endswith("Z") and first["time"][10] == "T"
    assert (second["dispatch_id"], second["send_id"], second["level"]) == (41, 8, "WARNING")


def test_an_extra_of_any_shape_is_shown_as_json():
    """The configuration a process logs at start (another part of the app) is a dict of settings."""
    logger, stream = configured({"APP_ENV": "production", "LOG_LEVEL": "INFO", "LOG_FORMAT": None})
    logger.info("effective configuration", extra={"config": {"DATABASE_URL": "postgresql://…", "WORKERS": 8}})
    assert json.loads(stream.getvalue())["config"] == {"DATABASE_URL": "postgresql://…", "WORKERS": 8}


def test_development_logs_text_with_the_fields_and_log_format_overrides_it():
    logger, stream = configured({"APP_ENV": "development", "LOG_LEVEL": "INFO", "LOG_FORMAT": None})
    logger.info("send started", extra={"send_id": 7, "company_id": 2})
    line = stream.getvalue()
    assert " INFO test.logs: send started" in line and "send_id=7" in line and "company_id=2" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)
    logger, stream = configured({"APP_ENV": "development", "LOG_LEVEL": "INFO", "LOG_FORMAT": "json"})
    logger.info("send started")
    assert json.loads(stream.getvalue())["message"] == "send started"


def test_log_level_leaves_out_what_is_below_it():
    logger, stream = configured({"APP_ENV": "production", "LOG_LEVEL": "WARNING", "LOG_FORMAT": "text"})
    logger.info("quiet")
    logger.warning("loud")
    assert "quiet" not in stream.getvalue() and "loud" in stream.getvalue()


def test_the_settings_come_from_the_environment(tmp_path):
    config = load_config(str(tmp_path), {"APP_ENV": "development", "LOG_LEVEL": "debug", "LOG_FORMAT": "JSON"})
    assert (config["LOG_LEVEL"], config["LOG_FORMAT"]) == ("DEBUG", "json")
    config = load_config(str(tmp_path), {"APP_ENV": "development"})
    assert (config["LOG_LEVEL"], config["LOG_FORMAT"]) == ("INFO", None)
    with pytest.raises(Exception, match="LOG_FORMAT"):
        load_config(str(tmp_path), {"APP_ENV": "development", "LOG_FORMAT": "xml"})
    with pytest.raises(Exception, match="LOG_LEVEL"):
        load_config(str(tmp_path), {"APP_ENV": "development", "LOG_LEVEL": "LOUD"})


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_storm_of_identical_errors_is_condensed_to_the_first_and_a_count():
    clock, emitted = FakeClock(), []
    storm = logs.RepeatFilter(window=60, clock=clock, emit=emitted.append)
    passed = [storm.filter(record(args=("POST /v2/x", n, ConnectionError("refused")))) for n in range(1, 501)]
    assert passed[0] and not any(passed[1:])  # args differ, template and error type do not
    assert emitted == []
    clock.now += 61
    other = record(message="something else")
    assert storm.filter(other)  # any later line lets the count out
    [summary] = emitted
    assert summary.getMessage() == (
        "kivra %s attempt %d: %s — repeated 499 times in the last 60 s" % ("POST /v2/x", 1, "refused"))
    assert (summary.name, summary.levelno, summary.repeated) == ("kivra.sender_api.client", logging.WARNING, 499)
    assert storm.filter(record(args=("POST /v2/x", 501, ConnectionError("refused"))))  # a new window: shown again


def test_different_loggers_templates_or_error_types_are_not_condensed_together():
    clock = FakeClock()
    storm = logs.RepeatFilter(window=60, clock=clock, emit=lambda _: None)
    assert storm.filter(record(args=("a", 1, ConnectionError())))
    assert storm.filter(record(args=("a", 1, TimeoutError())))  # another error type
    assert storm.filter(record(name="kivra.dispatch.engine"))  # another logger
    assert storm.filter(record(message="kivra %s failed: %s"))  # another template
    assert storm.filter(record(message="%s failed", args=("dispatch-sweep",), exc=OSError()))
    assert storm.filter(record(message="%s failed", args=("kivra-access-check",), exc=OSError()))  # another job
    assert storm.filter(record(message="x", exc=ValueError("v"))) and storm.filter(record(message="x", exc=KeyError()))
    assert not storm.filter(record(message="x", exc=KeyError()))


def test_info_lines_are_never_condensed_and_a_storm_ending_quietly_is_counted_on_flush():
    clock, emitted = FakeClock(), []
    storm = logs.RepeatFilter(window=60, clock=clock, emit=emitted.append)
    assert all(storm.filter(record(message="send finished", level=logging.INFO)) for _ in range(5))
    for _ in range(3):
        storm.filter(record())
    storm.flush()  # at exit: what was held back is counted
    assert [r.repeated for r in emitted] == [2]
    assert "repeated 2 times in the last 60 s" in emitted[0].getMessage()


def test_the_condensing_filter_works_behind_the_configured_handler():
    logger, stream = configured({"APP_ENV": "production", "LOG_LEVEL": "INFO", "LOG_FORMAT": "text"})
    for n in range(50):
        logger.warning("Redis connection failed: %s", ConnectionError(f"refused {n}"))
    assert stream.getvalue().count("Redis connection failed") == 1
