"""Which queue a task goes to: the one the app's config names (QUEUE_URL, HUEY_NAME), not one chosen at import.

Huey registers tasks on one `Huey` object, which must exist when the task modules are imported — before any app, and
so before any config. Where that object puts its tasks is its storage, and a storage class is Huey's documented way
to say so (`Huey(storage_class=...)`, a subclass of `huey.storage.BaseStorage`). `AppStorage` is one: each call goes
to the storage of the app in hand — the current app context's (the web process, a command, a test), else the app a
worker bound with `bind_app` (the consumer's threads run outside any context). Nothing of Huey is patched, and no
storage is made before an app names it. So two apps in one process each enqueue into their own queue; apps naming
the same queue share one storage (as processes on one Redis or one SQLite file share its tasks).
"""
import os
import threading

from flask import Flask, current_app, has_app_context
from huey.storage import BaseStorage, MemoryStorage, PriorityRedisStorage, SqliteStorage

_bound: dict[str, Flask] = {}
_storages: dict[tuple[str, str], BaseStorage] = {}
_lock = threading.Lock()


def bind_app(app: Flask) -> None:
    """The app tasks run in, for a worker process (the web process only enqueues)."""
    _bound["app"] = app


def unbind_app() -> None:
    _bound.pop("app", None)


def app() -> Flask:
    """The app of the caller's context if there is one (tests draining the queue), else the worker's bound app."""
    if has_app_context():
        return current_app._get_current_object()
    if "app" not in _bound:
        raise RuntimeError("no app bound for dispatch tasks: call bind_app() in the worker")
    return _bound["app"]


def make_storage(name: str, url: str) -> BaseStorage:
    """A new storage for a queue URL as kivra.config chooses it: memory://, sqlite:///path, or Redis's URL."""
    if url == "memory://":  # this process's own (the test suite drains it by hand)
        return MemoryStorage(name)
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        return SqliteStorage(name, filename=path, timeout=30)
    return PriorityRedisStorage(name, url=url)


def storage_for(name: str, url: str) -> BaseStorage:
    """The process's one storage for this queue, made the first time it is asked for."""
    with _lock:
        if (name, url) not in _storages:
            _storages[name, url] = make_storage(name, url)
        return _storages[name, url]


def close(url: str) -> None:
    """Forget this queue's storages and close their connections (a test's Redis or SQLite file it is done with)."""
    with _lock:
        gone = [_storages.pop(key) for key in list(_storages) if key[1] == url]
    for storage in gone:
        if hasattr(storage, "conn") and hasattr(storage.conn, "close"):
            storage.conn.close()  # Redis's connection pool
        storage.close()


def queue_storage() -> BaseStorage:
    """The storage of the app in hand's queue."""
    config = app().config
    return storage_for(config["HUEY_NAME"], config["QUEUE_URL"])


def _delegated(method: str):
    def call(self, *args, **kwargs):
        return getattr(queue_storage(), method)(*args, **kwargs)
    call.__name__ = method
    return call


class AppStorage(BaseStorage):
    """Huey's storage interface, each call handed to the app in hand's queue (see the module's docstring)."""

    @property
    def blocking(self) -> bool:  # Redis's dequeue waits for a task; the consumer polls the others
        return queue_storage().blocking

    @property
    def priority(self) -> bool:
        return queue_storage().priority

    # Every method of BaseStorage's interface.
    close = _delegated("close")
    enqueue = _delegated("enqueue")
    dequeue = _delegated("dequeue")
    queue_size = _delegated("queue_size")
    enqueued_items = _delegated("enqueued_items")
    flush_queue = _delegated("flush_queue")
    add_to_schedule = _delegated("add_to_schedule")
    read_schedule = _delegated("read_schedule")
    schedule_size = _delegated("schedule_size")
    scheduled_items = _delegated("scheduled_items")
    flush_schedule = _delegated("flush_schedule")
    put_data = _delegated("put_data")
    peek_data = _delegated("peek_data")
    peek_many = _delegated("peek_many")
    pop_data = _delegated("pop_data")
    wait_result = _delegated("wait_result")
    delete_data = _delegated("delete_data")
    has_data_for_key = _delegated("has_data_for_key")
    put_if_empty = _delegated("put_if_empty")
    incr = _delegated("incr")
    delete_counter = _delegated("delete_counter")
    result_store_size = _delegated("result_store_size")
    result_items = _delegated("result_items")
    flush_results = _delegated("flush_results")
    flush_counters = _delegated("flush_counters")
    flush_all = _delegated("flush_all")
