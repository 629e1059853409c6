"""The operator's commands, through Flask's CLI runner: the first company and admin in production, passwords, and
what waits for the dispatch workers."""
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from kivra.accounts.models import Company, User
from kivra.dispatch import heartbeat, service
from kivra.extensions import db
from kivra.payroll import service as payroll
from tests.conftest import Client, make_employee, make_user

pytestmark = pytest.mark.both_databases

PASSWORD = "a long enough password"


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args, input=None):
        result = runner.invoke(args=list(args), input=input)
        db.session.remove()  # what the command wrote, read afresh
        return result
    return invoke


def test_create_company_makes_a_new_customer(cli):
    result = cli("create-company", "Nya Bolaget AB", "556036-0793")
    assert result.exit_code == 0, result.output
    assert "Created Nya Bolaget AB (556036-0793)" in result.output
    company = db.session.scalar(select(Company))
    assert (company.name, company.orgnr) == ("Nya Bolaget AB", "5560360793")


@pytest.mark.parametrize("orgnr, says", [("556036-0794", "check digit is wrong"), ("55603607", "10 digits"),
                                         ("ABCDEF-GHIJ", "10 digits"),
                                         ("551840-2267", "third digit must be at least 2")])
def test_create_company_refuses_an_invalid_org_nr(cli, orgnr, says):
    result = cli("create-company", "Fel AB", orgnr)
    assert result.exit_code == 1 and says in result.output
    assert db.session.scalar(select(func.count()).select_from(Company)) == 0


def test_a_sole_traders_personnummer_is_taken_as_their_org_nr(cli):
    """An enskild firma's org.nr is its owner's personnummer (kivra.identity): 10 digits, as it is written."""
    assert cli("create-company", "Svenssons Måleri", "19821105-9954").exit_code == 0
    assert db.session.scalar(select(Company.orgnr)) == "8211059954"


def test_create_company_refuses_a_duplicate_whatever_its_spelling(cli):
    assert cli("create-company", "Nya Bolaget AB", "5560360793").exit_code == 0
    result = cli("create-company", "Samma AB", "165560360793")
    assert result.exit_code == 1
    assert "a company with org.nr 556036-0793 already exists: Nya Bolaget AB" in result.output
    assert db.session.scalar(select(func.count()).select_from(Company)) == 1


def test_the_first_admin_is_created_with_a_prompted_password_and_signs_in(app, cli):
    cli("create-company", "Nya Bolaget AB", "5560360793")
    result = cli("create-user", "Anna@Nya.se", "--company", "556036-0793", "--role", "admin", "--name", "Anna Admin",
                 input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden while typed
    user = db.session.scalar(select(User))
    assert (user.email, user.role, user.name, user.company.orgnr) == (
        "anna@nya.se", "admin", "Anna Admin", "5560360793")
    Client(app.test_client()).login(user, PASSWORD)  # the sign-in page lets them in


def test_create_user_reads_the_password_from_stdin_for_scripts(cli):
    cli("create-company", "Nya Bolaget AB", "5560360793")
    result = cli("create-user", "lon@nya.se", "--company", "5560360793", "--role", "payroll", "--name", "Lars",
                 "--password-stdin", input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User)).check_password(PASSWORD)


def test_a_password_is_never_an_argument(cli):
    cli("create-company", "Nya Bolaget AB", "5560360793")
    result = cli("create-user", "lon@nya.se", "--company", "5560360793", "--role", "payroll", "--name", "Lars",
                 "--password", PASSWORD)
    assert result.exit_code == 2 and "No such option" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize("args, says", [
    (("nobody@nya.se", "--company", "5568402266", "--role", "admin", "--name", "X"), "no company with org.nr"),
    (("not-an-address", "--company", "5560360793", "--role", "admin", "--name", "X"), "is not an e-mail address"),
    (("ANNA@nya.se", "--company", "5560360793", "--role", "admin", "--name", "X"), "already exists"),
])
def test_create_user_refuses_with_the_reason(cli, args, says):
    cli("create-company", "Nya Bolaget AB", "5560360793")
    cli("create-user", "anna@nya.se", "--company", "5560360793", "--role", "admin", "--name", "Anna",
        "--password-stdin", input=f"{PASSWORD}\n")
    result = cli("create-user", *args, "--password-stdin", input=f"{PASSWORD}\n")
    assert result.exit_code == 1 and says in result.output, result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize("typed, says", [("short\nshort\n", "at least 10 characters"),
                                         (f"{PASSWORD}\nsomething else\n", "do not match")])
def test_a_short_or_mistyped_password_creates_nobody(cli, typed, says):
    cli("create-company", "Nya Bolaget AB", "5560360793")
    result = cli("create-user", "anna@nya.se", "--company", "5560360793", "--role", "admin", "--name", "Anna",
                 input=typed)
    assert result.exit_code == 1 and says in result.output, result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_set_password_replaces_the_old_one(app, company, cli):
    user = make_user(company, "admin")
    result = cli("set-password", user.email.upper(), input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0 and f"Password set for {user.email}" in result.output
    user = db.session.get(User, user.id)
    assert user.check_password(PASSWORD) and not user.check_password("correct horse battery")
    Client(app.test_client()).login(user, PASSWORD)


def test_set_password_for_nobody_fails(cli):
    result = cli("set-password", "nobody@nya.se", "--password-stdin", input=f"{PASSWORD}\n")
    assert result.exit_code == 1 and "no user with the e-mail address nobody@nya.se" in result.output


def test_demo_refuses_in_production(app, cli):
    app.config["APP_ENV"] = "production"
    result = cli("demo")
    assert result.exit_code == 1 and "does not run in production" in result.output
    assert db.session.scalar(select(func.count()).select_from(Company)) == 0


# --- flask dispatch status ----------------------------------------------------------------------------------------


def sent_run(company, user, employees: int, **send):
    for index in range(employees):
        make_employee(company, name=f"Person {index}", personnummer=f"19121212121{index}"[:12])
    run = payroll.create_run(company, date(2026, 11, 1), date(2026, 11, 25))
    payroll.calculate_run(run)
    service.request_send(run, user, **send)  # queued, not drained: the queue holds its start
    return run


def test_dispatch_status_shows_the_queue_the_rows_and_that_no_worker_is_there(company, cli):
    sent_run(company, make_user(company), 1, min_lon_only=True)
    result = cli("dispatch", "status")
    assert result.exit_code == 3  # due and no worker: as /healthz/workers answers 503
    assert "Queue     memory://: 1 task(s) waiting" in result.output
    assert "Workers   0 alive of 0 known" in result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("All companies")]
    assert line.split()[2:5] == ["0", "1", "0"]  # sending, queued, held
    assert "no worker has been seen lately" in result.output


def test_dispatch_status_in_json_per_company_with_a_worker_alive(app, company, other_company, cli):
    sent_run(company, make_user(company), 1, min_lon_only=True)
    sent_run(other_company, make_user(other_company), 1, awaiting_agreement=True)
    heartbeat.beat()
    db.session.remove()
    result = cli("dispatch", "status", "--by-company", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["queue_depth"], report["workers_alive"]) == (1, 1)
    assert {key: report["payslips"][key] for key in ("sending", "queued", "held")} == {"sending": 0, "queued": 1,
                                                                                     "held": 1}
    assert report["payslips"]["oldest_due_seconds"] is not None
    assert [(c["orgnr"], c["queued"], c["held"]) for c in report["companies"]] == [
        ("556036-0793", 0, 1), ("556840-2266", 1, 0)]
    only = json.loads(cli("dispatch", "status", "--company", "556036-0793", "--json").output)
    assert (only["company"], only["payslips"]["held"], only["payslips"]["queued"]) == ("556036-0793", 1, 0)


def test_dispatch_status_for_an_unknown_company_fails(cli):
    result = cli("dispatch", "status", "--company", "556036-0793")
    assert result.exit_code == 1 and "no company with org.nr 556036-0793" in result.output
