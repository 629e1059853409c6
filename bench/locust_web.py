"""Locust's users for bench/web_during_send.py (not run alone): administrators who watch the Kivra status page and
the run list, and employees who read Min lön. Each signs in once (CSRF token from the form), then browses.

The bench passes what they need in the environment: BENCH_ADMINS and BENCH_EMPLOYEES (how many accounts of each,
`admin-<n>@bench.se`, `minlon-<n>@bench.se`), BENCH_PASSWORD, BENCH_TIMINGS (a JSON file written at the end: every
request's name, when it ended, the app's own time from the Server-Timing header, the client's time, and its failure
if any). An answer other than 200, or a page that is not the one asked for (a sign-in page after a lost session), is
a failure."""
import itertools
import json
import os
import re
import time

from locust import HttpUser, between, events, task

from bench.server_timing import app_duration_ms

PASSWORD = os.environ.get("BENCH_PASSWORD", "")
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
ADMIN_PAGES = {"status page": "/solutions/kivra", "run list": "/runs"}
MIN_LON = "/min-lon/"
REQUESTS: list[tuple] = []  # (name, ended at (epoch s), the app's ms or None, the client's ms, failure or None)


@events.request.add_listener
def _record(name, response_time, response, exception, **_kwargs):
    server = app_duration_ms(response.headers.get("Server-Timing")) if response is not None else None
    REQUESTS.append((name, time.time(), server, response_time, None if exception is None else str(exception)))


@events.quitting.add_listener
def _write(**_kwargs):
    path = os.environ.get("BENCH_TIMINGS")
    if path:
        with open(path, "w") as out:
            json.dump(REQUESTS, out)


class SignedIn(HttpUser):
    abstract = True
    wait_time = between(1, 3)
    login_path = ""
    numbers = itertools.count()

    def account(self) -> str:
        raise NotImplementedError

    def on_start(self):
        form = self.client.get(self.login_path, name="sign in (form)")
        token = CSRF.search(form.text).group(1)
        with self.client.post(self.login_path, name="sign in", allow_redirects=False, catch_response=True,
                              data={"email": self.account(), "password": PASSWORD, "csrf_token": token}) as answer:
            if answer.status_code != 303:
                answer.failure(f"sign-in answered {answer.status_code}")

    def page(self, name: str, path: str, marker: str):
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}")
            elif marker not in answer.text:
                answer.failure(f"not the page asked for: {marker!r} missing")


class Administrator(SignedIn):
    """A payroll administrator of the company that sends: its status page and its run list, in turn."""

    fixed_count = int(os.environ.get("BENCH_ADMIN_USERS", "20"))
    login_path = "/login"
    numbers = itertools.count()

    def account(self) -> str:
        return f"admin-{next(self.numbers) % int(os.environ.get('BENCH_ADMINS', '1'))}@bench.se"

    @task
    def status_page(self):
        self.page("status page", ADMIN_PAGES["status page"], 'id="dispatch_month"')

    @task
    def run_list(self):
        self.page("run list", ADMIN_PAGES["run list"], 'id="run_form"')


class Employee(SignedIn):
    """An employee reading their payslips in Min lön."""

    login_path = "/min-lon/login"
    numbers = itertools.count()

    def account(self) -> str:
        return f"minlon-{next(self.numbers) % int(os.environ.get('BENCH_EMPLOYEES', '1'))}@bench.se"

    @task
    def min_lon(self):
        self.page("Min lön", MIN_LON, 'id="payslips"')
