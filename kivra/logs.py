"""Logging, set up once per process (web, `flask worker`, `flask serve`): JSON lines in production, plain text
elsewhere (LOG_FORMAT overrides), at LOG_LEVEL. Each line carries time, level, logger and message, and the fields it
is about (send_id, company_id, dispatch_id, …: given as `extra=`, or set for a block with `log_context`). A storm of
identical warnings — a database or Kivra that does not answer — is condensed to its first line and a count.

What is logged never carries a personnummer or a name: ids, counts, codes (tests/dispatch/test_operator_logs.py).
"""
import atexit
import contextvars
import logging
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Callable

from pythonjsonlogger.json import JsonFormatter

FORMATS = ("json", "text")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Libraries that say a line per request, task or font table: their warnings are enough.
QUIET = ("httpx", "httpcore", "huey", "fontTools")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
_context: contextvars.ContextVar[dict] = contextvars.ContextVar("log_context", default={})


@contextmanager
def log_context(**fields):
    """Every line logged in this block (this thread) carries these fields, e.g. the row a worker is sending."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def _utc_time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(record.msecs):03d}Z"


class JsonLines(JsonFormatter):
    """One JSON object per line: time (UTC), level, logger, message, then every field given with the line."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", json_ensure_ascii=False,
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        return _utc_time(record)


class TextLines(logging.Formatter):
    """`time LEVEL logger: message [field=value …]` for a person at a terminal."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        return _utc_time(record)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = {key: value for key, value in vars(record).items() if key not in _STANDARD and not key.startswith("_")}
        if not fields:
            return line
        head, newline, rest = line.partition("\n")  # a traceback stays below the line
        return head + " [" + " ".join(f"{key}={value}" for key, value in fields.items()) + "]" + newline + rest


class RepeatFilter(logging.Filter):
    """Lets the first of identical warnings (same logger, message template and error type) through, then counts the
    repeats for `window` seconds and says "… repeated N times in the last 60 s" once the window is over (at the next
    line logged, or at exit). Lines differing only in numbers (a row id, an attempt) or in the error's text count as
    identical; text arguments (which job, which call) tell them apart. INFO and below always pass: those lines are
    each worth reading."""

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 emit: Callable[[logging.LogRecord], object] | None = None):
        super().__init__()
        self.window, self.clock, self.emit = window, clock, emit or (lambda record: None)
        self._lock = threading.Lock()
        self._open: dict[tuple, list] = {}  # key -> [window start, repeats held back, first record]

    @staticmethod
    def key(record: logging.LogRecord) -> tuple:
        args = record.args if isinstance(record.args, tuple) else ()
        error = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
        if error is None:
            error = next((type(arg).__name__ for arg in args if isinstance(arg, BaseException)), None)
        return record.name, str(record.msg), error, tuple(arg for arg in args if isinstance(arg, str))

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_condensed", False):
            return True
        now = self.clock()
        with self._lock:
            summaries = self._close(lambda start: now - start >= self.window)
            if record.levelno < logging.WARNING:
                passed = True
            else:
                key = self.key(record)
                held = self._open.get(key)
                if held is None:
                    self._open[key] = [now, 0, record]
                    passed = True
                else:
                    held[1] += 1
                    passed = False
        for summary in summaries:
            self.emit(summary)
        return passed

    def flush(self) -> None:
        """Say now how often each open storm repeated (at exit)."""
        with self._lock:
            summaries = self._close(lambda start: True)
        for summary in summaries:
            self.emit(summary)

    def _close(self, ended) -> list[logging.LogRecord]:
        summaries = []
        for key, (start, repeats, first) in list(self._open.items()):
            if ended(start):
                del self._open[key]
                if repeats:
                    summaries.append(self._summary(first, repeats))
        return summaries

    def _summary(self, first: logging.LogRecord, repeats: int) -> logging.LogRecord:
        summary = logging.makeLogRecord(dict(vars(first)))
        summary.msg = f"{first.getMessage()} — repeated {repeats} times in the last {self.window:.0f} s"
        summary.args, summary.exc_info, summary.exc_text, summary.stack_info = (), None, None, None
        summary.created = time.time()
        summary.msecs = (summary.created % 1) * 1000
        summary.repeated, summary._condensed = repeats, True
        return summary


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is logged (a test runner swaps it)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def configure(config, stream=None, logger: logging.Logger | None = None) -> logging.Handler:
    """Set up logging for this process from LOG_LEVEL, LOG_FORMAT and APP_ENV. Called by every `create_app`; only the
    first call in a process installs the handler (a `stream` or `logger` given — tests — installs a fresh one)."""
    target = logger or logging.getLogger()
    level = config.get("LOG_LEVEL") or "INFO"
    ours = [handler for handler in target.handlers if getattr(handler, "_kivra", False)]
    if ours and stream is None and logger is None:
        return ours[0]
    for handler in ours:
        target.removeHandler(handler)
    handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    handler._kivra = True
    fmt = config.get("LOG_FORMAT") or ("json" if config.get("APP_ENV") == "production" else "text")
    handler.setFormatter(JsonLines() if fmt == "json" else TextLines())
    handler.addFilter(ContextFilter())
    storm = RepeatFilter(emit=handler.handle)
    handler.addFilter(storm)
    atexit.register(storm.flush)
    target.addHandler(handler)
    target.setLevel(level)
    if logger is None:
        for name in QUIET:
            logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    return handler
