"""The health endpoints a supervisor or load balancer polls: JSON, no sign-in, no personal data; 503 when the
database does not answer, or when payslips are due and no dispatch worker has been seen for a minute."""
import json
from datetime import timedelta

import pytest

from kivra import create_app
from kivra.accounts.models import utcnow
from kivra.dispatch import tasks
from kivra.dispatch.heartbeat import WorkerHeartbeat
from kivra.extensions import db

pytestmark = pytest.mark.both_databases


def worker_seen(ago: timedelta, pid: int = 4242) -> None:
    now = utcnow()
    db.session.add(WorkerHeartbeat(name=f"worker-1:{pid}", host="worker-1", pid=pid, started_at=now - ago * 2,
                                   seen_at=now - ago))
    db.session.commit()


def queued(client, run) -> None:
    """A payslip queued for Min lön and no worker to publish it: due, waiting."""
    assert client.post(f"/runs/{run.id}/send/min-lon").status_code == 303
    client.raw.get("/logout")


def test_the_web_answers_without_sign_in_when_its_database_does(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.is_json and response.json == {"status": "ok", "database": "ok"}


def test_the_web_says_503_when_its_database_does_not_answer(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'missing' / 'x.db'}"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}
    assert app.test_client().get("/healthz/workers").status_code == 503


def test_nothing_due_and_no_worker_is_healthy(app):
    response = app.test_client().get("/healthz/workers")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "workers": [], "queue_depth": 0, "oldest_due_seconds": None}


def test_a_live_worker_is_listed_with_its_last_heartbeat(app, as_admin, run):
    worker_seen(timedelta(seconds=3))
    queued(as_admin, run)
    response = app.test_client().get("/healthz/workers")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "ok" and body["queue_depth"] == tasks.huey.pending_count() == 1
    [worker] = body["workers"]
    assert worker["name"] == "worker-1:4242" and worker["pid"] == 4242 and worker["alive"] is True
    assert 2 <= worker["seen_seconds_ago"] < 60 and worker["seen_at"].endswith("Z")
    assert body["oldest_due_seconds"] is not None and body["oldest_due_seconds"] >= 0


def test_due_payslips_and_no_worker_for_two_minutes_answer_503(app, as_admin, run):
    worker_seen(timedelta(minutes=2))
    queued(as_admin, run)
    response = app.test_client().get("/healthz/workers")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert [w["alive"] for w in response.json["workers"]] == [False]


def test_due_payslips_and_no_worker_ever_answer_503(app, as_admin, run):
    queued(as_admin, run)
    assert app.test_client().get("/healthz/workers").status_code == 503


def test_no_personal_data_and_no_session_in_the_answers(app, as_admin, run, company):
    worker_seen(timedelta(seconds=1))
    queued(as_admin, run)
    anonymous = app.test_client()
    for url in ("/healthz", "/healthz/workers"):
        response = anonymous.get(url)
        body = json.dumps(response.json)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers
        for private in ("191212121212", "Astrid", company.orgnr, company.name):
            assert private not in body


def test_the_endpoints_answer_htmx_and_head_too(app):
    client = app.test_client()
    assert client.get("/healthz", headers={"HX-Request": "true"}).status_code == 200
    assert client.head("/healthz").status_code == 200
