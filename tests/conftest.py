"""Fixtures: a fresh database per test, two companies, and clients that speak CSRF and htmx."""
import html
import re
from datetime import date
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from kivra import create_app
from kivra.accounts.models import Company, User
from kivra.dispatch import tasks as dispatch_tasks
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.payroll import service
from kivra.sandbox.config import SandboxConfig
from kivra.sandbox.server import start_in_thread
from tests import databases, servers

# No personnummer in any log line of the run: checked at its end (issue 17).
pytest_plugins = ["tests.security.log_scan"]

PASSWORD = "correct horse battery"
# Production hashes with scrypt; tests sign in hundreds of times, so one cheap hash is made once here.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
CSRF_INPUT = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class RequestPerContextClient(FlaskClient):
    """Each request gets its own app context, as in production: a fresh `g`, a fresh database session."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL for the session, started when a test first asks; a server that cannot start fails."""
    with servers.postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url():
    """A throwaway Redis for the session, started when a test first asks; a server that cannot start fails."""
    with servers.redis_server() as url:
        yield url


FIGURES: list[str] = []


def report_figure(line: str) -> None:
    """A figure an operator reads in CI's output (recovery after a SIGKILL, the lifecycle's months): printed now, and
    again in the run's closing summary, where captured output does not hide it."""
    print(line)
    FIGURES.append(line.strip("\n"))


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.hookimpl(tryfirst=True)  # the database comes first in a test's id: test_x[postgresql-sv]
def pytest_generate_tests(metafunc):
    """A module marked `both_databases` runs its tests on SQLite and on PostgreSQL, others on SQLite only.
    PostgreSQL runs in Swedish only: the language changes what a page says, never what the database is asked."""
    if "database" not in metafunc.fixturenames or not metafunc.definition.get_closest_marker("both_databases"):
        return
    if "lang" in metafunc.fixturenames:
        metafunc.parametrize(["database", "lang"], [("sqlite", "sv"), ("sqlite", "en"), ("postgresql", "sv")],
                             indirect=["database"])
    else:
        metafunc.parametrize("database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def database(request) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def postgres_tables(postgres_url) -> databases.PostgresTables:
    return databases.make_tables(postgres_url)


@pytest.fixture
def app_config(database, tmp_path, request) -> dict:
    """The test app's configuration: a second app made from it (a worker's, say) works on the test's database."""
    if database == "postgresql":
        where = databases.config_for(request.getfixturevalue("postgres_tables").url)
    else:
        where = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.db'}"}
    return {
        "TESTING": True,  # APP_ENV testing, a throwaway SECRET_KEY (kivra.config.load_config)
        **where,
        "QUEUE_URL": "memory://",  # tests drain the dispatch queue themselves (kivra.dispatch.tasks.drain)
        # Test companies are created today; they are existing customers unless a test says otherwise.
        "KIVRA_NEW_CUSTOMERS_SINCE": date.max,
    }


@pytest.fixture
def app(database, app_config, request):
    app = create_app(app_config)
    app.test_client_class = RequestPerContextClient
    with app.app_context():
        try:
            if database == "postgresql":
                databases.empty(request.getfixturevalue("postgres_tables"))  # its tables are made once a session
            else:
                db.create_all()
            dispatch_tasks.huey.flush()  # the in-memory queue outlives each app: the test starts and ends empty
            yield app
        finally:
            dispatch_tasks.huey.flush()
            db.session.remove()
            if database == "postgresql":
                db.engine.dispose()  # this app's connections end with it
            else:
                db.drop_all()


def make_company(name="Demo AB", orgnr="5568402266") -> Company:
    company = Company(name=name, orgnr=orgnr, employer_contribution_rate=Decimal("31.42"))
    db.session.add(company)
    db.session.commit()
    return company


def make_user(company: Company, role="admin", email=None, locale="sv") -> User:
    user = User(company=company, role=role, email=email or f"{role}@{company.orgnr}.se", name=f"{role.title()} User", locale=locale)
    user.password_hash = PASSWORD_HASH
    db.session.add(user)
    db.session.commit()
    return user


def make_employee(company: Company, **fields) -> Employee:
    values = dict(
        name="Astrid Lindqvist",
        personnummer="191212121212",
        email="astrid@example.se",
        employment_start=date(2020, 1, 1),
        monthly_salary_ore=3_250_000,
        tax_rate=Decimal("30"),
    )
    values.update(fields)
    employee = Employee(company_id=company.id, **values)
    db.session.add(employee)
    db.session.commit()
    return employee


@pytest.fixture
def company(app):
    return make_company()


@pytest.fixture
def other_company(app):
    return make_company("Annat AB", "5560360793")


@pytest.fixture
def kivra(app):
    """A Kivra sandbox over HTTP for this test, with short access-request times; the app points at it."""
    with start_in_thread(SandboxConfig(request_access_pending_seconds=0.0, token_ttl=60)) as sandbox:
        app.config["KIVRA_API_URL"] = sandbox.url
        yield sandbox
        client = app.extensions.pop("kivra_client", None)
        if client:
            client.close()


@pytest.fixture
def run(company):
    """A calculated November run with one employee (modules with other needs define their own `run`)."""
    make_employee(company)
    run = service.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    service.calculate_run(run)
    return run


@pytest.fixture(params=["sv", "en"])
def lang(request):
    return request.param


class Client:
    """The test client as a person's browser: signed in, with a CSRF token, full page or htmx."""

    def __init__(self, flask_client):
        self.raw = flask_client
        self.token = None

    def login(self, user: User, password=PASSWORD):
        self.token = self.csrf_from(self.raw.get("/login"))
        response = self.raw.post("/login", data={"email": user.email, "password": password, "csrf_token": self.token})
        assert response.status_code == 303, response.status_code
        self.token = self.csrf_from(self.raw.get("/runs"))
        return self

    @staticmethod
    def csrf_from(response) -> str:
        return CSRF_INPUT.search(response.get_data(as_text=True)).group(1)

    def get(self, url, htmx=False, **kwargs):
        return self.raw.get(url, headers=self._headers(htmx), **kwargs)

    def post(self, url, data=None, htmx=False, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token)
        return self.raw.post(url, data=data, headers=self._headers(htmx), **kwargs)

    @staticmethod
    def _headers(htmx):
        return {"HX-Request": "true"} if htmx else {}


@pytest.fixture
def client(app):
    return Client(app.test_client())


@pytest.fixture
def admin(company, lang):
    return make_user(company, "admin", locale=lang)


@pytest.fixture
def payroll_user(company, lang):
    return make_user(company, "payroll", locale=lang)


@pytest.fixture
def as_admin(client, admin):
    return client.login(admin)


@pytest.fixture
def as_payroll(client, payroll_user):
    return client.login(payroll_user)


def text(response) -> str:
    """The response body as one line of text, tags dropped: what a person reads."""
    body = html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    return re.sub(r"\s+", " ", body.replace("&nbsp;", " ").replace("\xa0", " "))
