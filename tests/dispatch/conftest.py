"""Every dispatch test starts and ends with an empty queue: the in-memory Huey outlives each test's app."""
import pytest

from kivra.dispatch import tasks


@pytest.fixture(autouse=True)
def empty_queue():
    tasks.huey.flush()
    yield
    tasks.huey.flush()
