"""The queue is the app's: create_app's config (QUEUE_URL, HUEY_NAME) decides where tasks go, nothing read at import."""
import subprocess
import sys
import textwrap

import pytest

from kivra import create_app
from kivra.dispatch import app_queue, tasks
from tests.reliability.processes import ROOT, child_env


def queue_app(tmp_path, name: str):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'payroll.db'}",
                       "QUEUE_URL": f"sqlite:///{tmp_path / name}"})


def test_two_apps_in_one_process_enqueue_into_their_own_queues(tmp_path):
    web, other = queue_app(tmp_path, "web-queue.db"), queue_app(tmp_path, "other-queue.db")
    with web.app_context():
        tasks.start_send(1)  # the web process pressing "send": the task goes where this app's config says
        tasks.start_send(2)
    with other.app_context():
        tasks.start_send(3)
        assert [task.args for task in tasks.huey.pending()] == [(3,)], "the other app's queue got the web's tasks"
    with web.app_context():
        assert [task.args for task in tasks.huey.pending()] == [(1,), (2,)]
    assert (tmp_path / "web-queue.db").exists() and (tmp_path / "other-queue.db").exists()


def test_a_worker_takes_tasks_from_the_queue_of_the_app_it_was_given(tmp_path):
    web, other = queue_app(tmp_path, "web-queue.db"), queue_app(tmp_path, "other-queue.db")
    with web.app_context():
        tasks.start_send(7)
    app_queue.bind_app(other)
    try:
        assert tasks.huey.pending_count() == 0  # the consumer's threads run outside any app context
        app_queue.bind_app(web)
        assert [task.args for task in tasks.huey.pending()] == [(7,)]
    finally:
        app_queue.unbind_app()


def test_without_an_app_the_queue_says_so():
    with pytest.raises(RuntimeError, match="no app"):
        tasks.huey.pending_count()


def test_a_test_app_needs_no_environment_set_before_its_imports(tmp_path):
    """The settings come with create_app(test_config): importing the app chooses no queue and makes no file."""
    script = textwrap.dedent("""
        import sys
        from kivra import create_app
        from kivra.dispatch import app_queue, tasks
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "QUEUE_URL": "memory://"})
        with app.app_context():
            tasks.start_send(1)
            print(type(app_queue.queue_storage()).__name__, tasks.huey.pending_count())
    """)
    env = child_env(INSTANCE_PATH=str(tmp_path / "instance"))
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["MemoryStorage", "1"]
    assert not (tmp_path / "instance" / "queue.db").exists(), "a SQLite queue was made at import"
