"""Every dispatch test that has an app starts and ends with an empty queue: tests/conftest.py's `app` fixture empties
the in-memory queue, which outlives each test's app, before and after."""
