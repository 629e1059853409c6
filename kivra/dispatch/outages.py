"""A database or Redis that cannot be reached is an outage, not a verdict: a task that meets one is run again after a
pause (DISPATCH_OUTAGE_RETRY_SECONDS), a few dozen seconds in all, instead of being dropped; after that the sweep
rings for its row again, since the outbox, not the queue, is the truth."""
import logging
from functools import wraps

from huey.exceptions import RetryTask
from sqlalchemy import exc

log = logging.getLogger(__name__)
OUTAGE_RETRIES = 12  # with the default pause of 5 s: a minute, longer than a database restart or failover


def _connection_errors() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [exc.OperationalError, exc.InterfaceError, exc.DisconnectionError]
    try:
        import psycopg
        found += [psycopg.OperationalError, psycopg.InterfaceError]
    except ImportError:  # SQLite only
        pass
    try:
        import redis
        found += [redis.ConnectionError, redis.TimeoutError]
    except ImportError:  # the SQLite queue only
        pass
    return tuple(found)


CONNECTION_ERRORS = _connection_errors()


def is_outage(error: BaseException) -> bool:
    """The database or Redis could not be reached (or dropped the connection); not a bug or a refused statement."""
    return isinstance(error, CONNECTION_ERRORS) or isinstance(error.__cause__, CONNECTION_ERRORS)


def is_redis_outage(error: BaseException) -> bool:
    try:
        import redis
    except ImportError:
        return False
    return isinstance(error, (redis.ConnectionError, redis.TimeoutError))


def retry_on_outage(pause_seconds, on_redis_outage=lambda: None):
    """For a Huey task made with `context=True` and `retries=OUTAGE_RETRIES`: an outage runs it again after
    `pause_seconds()` while retries last; any other error is not retried (Huey logs it; the sweep rings again)."""
    def decorate(fn):
        @wraps(fn)
        def inner(*args, task=None, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as error:
                if task is None or not is_outage(error):
                    if task is not None:
                        task.retries = 0
                    raise
                if is_redis_outage(error):
                    on_redis_outage()  # rings may have been lost meanwhile: the sweep rings for every due row
                if task.retries <= 0:
                    log.warning("%s%s: %s unreachable, retries spent; the sweep rings again", fn.__name__, args,
                                type(error).__name__)
                    return None
                task.retries -= 1  # Huey counts a RetryTask as no retry at all: this one counts
                pause = pause_seconds()
                # The first retry of a task is worth a line; the next ones of the same outage would only repeat it.
                level = logging.WARNING if task.retries == OUTAGE_RETRIES - 1 else logging.DEBUG
                log.log(level, "%s%s: %s, tried again in %g s (%d retries left)", fn.__name__, args,
                        type(error).__name__, pause, task.retries)
                raise RetryTask(delay=pause) from error
        return inner
    return decorate
