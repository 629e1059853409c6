"""The status pages at a bureau's scale: their month queries read the covering (company_id, state, dispatched_at, ...)
index, on SQLite and PostgreSQL, and the per-employee page pages its employees in the database (issue 19.4); the
index's migration goes up and down on both databases."""
import re
from datetime import date

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, inspect, text as sql

from kivra import agreement
from kivra.agreement.models import KivraSender
from kivra.extensions import db
from tests.conftest import text
from tests.status_history import add_employees, add_month
from tests.test_status_pages import OUTCOME_WORDS
from tests.test_postgres import migrated_app, pg_app  # noqa: F401 - fixtures

pytestmark = pytest.mark.both_databases

INDEX = "ix_dispatch_company_state_month"
OCTOBER = date(2026, 10, 1)
PAGES = ["/solutions/kivra?month=2026-10", "/solutions/dispatches?month=2026-10",
         "/solutions/dispatches/chart?month=2026-10"]


@pytest.fixture
def bureau_company(company, admin, other_company):
    """Kivra in force; 230 employees paid in October and September, and another company's October around them."""
    agreement.approve(company, admin)
    db.session.add(KivraSender(company_id=company.id, state="active", tenant_key="tenant-demo"))
    db.session.commit()
    employees = add_employees(company, 230)
    add_month(company, admin, employees, OCTOBER)
    add_month(company, admin, employees, date(2026, 9, 1))
    add_month(other_company, admin, add_employees(other_company, 30, prefix="Annan"), OCTOBER)
    return company


def page_statements(client, path: str, wanted) -> list[tuple[str, object]]:
    """The statements a page runs for which `wanted(statement)` holds, with their parameters."""
    statements = []

    def listener(_connection, _cursor, statement, parameters, _context, _many):
        if wanted(statement):
            statements.append((statement, parameters))
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return statements


def month_statements(client, path: str) -> list[tuple[str, object]]:
    """The statements a page runs that count or list a month of dispatch rows, with their parameters."""
    return page_statements(client, path, lambda statement: "FROM dispatch" in statement
                           and "dispatched_at >=" in statement)


def plan(statement: str, parameters) -> str:
    """The plan the database chooses. PostgreSQL, on a test's few hundred rows, prefers reading the narrower
    (company_id, dispatched_at) index and the table; on a million rows it chooses the covering index (EXPLAIN in
    docs/benchmarks.md). So it is asked with the narrower indexes dropped (and the table analysed), in a transaction
    rolled back: the statement must then be an index-only scan of the covering index with every condition in the
    index, none filtered after."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            return "\n".join(row[-1] for row in rows)
        with connection.begin() as transaction:
            connection.exec_driver_sql("DROP INDEX ix_dispatch_company_dispatched")
            connection.exec_driver_sql("DROP INDEX ix_dispatch_run_month")  # (run_id, dispatched_at): as tempting
            connection.exec_driver_sql("ANALYZE dispatch")
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
            chosen = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))
            transaction.rollback()
        return chosen


@pytest.mark.parametrize("path", PAGES)
def test_each_pages_month_figures_are_summed_from_the_tally_not_counted_from_its_rows(as_admin, bureau_company,
                                                                                     path):
    tallied = [statement for statement, _ in page_statements(as_admin, path, lambda s: "dispatch_tally" in s)]
    # The status page's run filter: the month's runs with sends, from the tally too.
    run_filter = [statement for statement in tallied if statement.startswith("SELECT payroll_run.id")]
    assert len(run_filter) == (1 if path.startswith("/solutions/kivra?") else 0)
    figures = [statement for statement in tallied if statement not in run_filter]
    assert len(figures) == 1  # the month's totals, or the chart's twelve months
    assert "sum(dispatch_tally.n)" in figures[0] and "JOIN" not in figures[0]
    # What is still counted from the rows (the per-employee page's employees) reads the covering index.
    counts = [(statement, parameters) for statement, parameters in month_statements(as_admin, path)
              if "count(" in statement]
    assert len(counts) == (1 if "/dispatches?" in path else 0)
    for statement, parameters in counts:
        chosen = plan(statement, parameters)
        assert INDEX in chosen, chosen
        if db.engine.dialect.name == "sqlite":  # counted from the index alone, no row read
            assert f"COVERING INDEX {INDEX}" in chosen, chosen
        else:
            assert f"Index Only Scan using {INDEX}" in chosen and "Filter:" not in chosen, chosen


@pytest.mark.parametrize("htmx", [False, True])
def test_the_per_employee_page_pages_a_hundred_employees_in_name_order(as_admin, bureau_company, lang, htmx):
    names = []
    for number in (1, 2, 3):
        response = as_admin.get(f"/solutions/dispatches?month=2026-10&page={number}", htmx=htmx)
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and 'id="dispatch_overview"' in body and ("<html" in body) is not htmx
        page = re.findall(r"<tr>\s*<td>(Anställd \d+)</td>", body)
        assert len(page) == (100 if number < 3 else 30)
        names += page
    assert names == [f"Anställd {i:04d}" for i in range(230)]  # each once, in name order, none of the other company
    last = text(as_admin.get("/solutions/dispatches?month=2026-10&page=99", htmx=htmx))  # clamped to the last page
    assert "Anställd 0229" in last and "Anställd 0129" not in last
    searched = as_admin.get("/solutions/dispatches?month=2026-10&q=anställd 01", htmx=htmx).get_data(as_text=True)
    assert re.findall(r"<tr>\s*<td>(Anställd \d+)</td>", searched) == [f"Anställd {i:04d}" for i in range(100, 200)]
    first = text(as_admin.get("/solutions/dispatches?month=2026-10", htmx=htmx))
    assert OUTCOME_WORDS[lang]["delivered"] in first and OUTCOME_WORDS[lang]["published"] in first


def indexes() -> set[str]:
    return {index["name"] for index in inspect(db.engine).get_indexes("dispatch")}


def test_0018_adds_the_month_index_and_goes_down_again(migrated_app):
    upgrade(revision="0017_payslip_letterhead")
    assert INDEX not in indexes()
    upgrade(revision="0018_status_month_index")
    assert INDEX in indexes()
    columns = next(index["column_names"] for index in inspect(db.engine).get_indexes("dispatch")
                   if index["name"] == INDEX)
    assert columns == ["company_id", "state", "dispatched_at", "channel", "reason", "run_id", "employee_id"]
    downgrade(revision="0017_payslip_letterhead")
    assert INDEX not in indexes() and "ix_dispatch_company_dispatched" in indexes()
    upgrade()
    assert INDEX in indexes()
    with db.engine.connect() as connection:
        assert connection.execute(sql("SELECT count(*) FROM dispatch")).scalar_one() == 0


def test_the_status_pages_lists_join_only_the_companys_employees_and_runs(as_admin, bureau_company):
    """In a bureau's database the employee and run tables hold every client's: the month's list names the company
    on them, so PostgreSQL reads the company's part (its index) rather than hashing the whole table."""
    statements = month_statements(as_admin, "/solutions/kivra?month=2026-10")
    lines = [statement for statement, _ in statements if "JOIN employee" in statement and "LIMIT" in statement]
    runs = [statement for statement, _ in page_statements(as_admin, "/solutions/kivra?month=2026-10", lambda s: True)
            if statement.lstrip().startswith("SELECT payroll_run.id")]  # the run filter, from the tally
    assert len(lines) == 1 and "employee.company_id = " in lines[0]
    assert len(runs) == 1 and "payroll_run.company_id = " in runs[0]
    people = month_statements(as_admin, "/solutions/dispatches?month=2026-10")
    assert any("JOIN employee" in statement and "employee.company_id = " in statement for statement, _ in people)


def test_the_months_first_page_reads_employees_in_name_order_not_a_sort_of_the_month(as_admin, bureau_company):
    """The status page lists a month 100 rows at a time by employee name: read through (company_id, name, id) and
    joined to each employee's rows, the first page of a 20 000-row month costs about 100 employees, not a sort of
    20 000 joined rows (52 -> 2.4 ms on PostgreSQL, issue 19.3). PostgreSQL is asked with sorting discouraged, as
    on a big month's statistics. SQLite, without statistics, keeps the month index and a sort whatever the month's
    size: there the page must simply be the first hundred by name. (On the bureau's 5 000-row month PostgreSQL
    chooses this plan by itself once each employee's month is one index probe: 14.7 -> 0.5 ms, migration 0021.)"""
    statements = month_statements(as_admin, "/solutions/kivra?month=2026-10")
    (statement, parameters), = [(s, p) for s, p in statements if "JOIN employee" in s and "LIMIT" in s]
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            names = [row[2] for row in connection.exec_driver_sql(statement, parameters)]
            assert names == [f"Anställd {i:04d}" for i in range(100)]
        else:
            with connection.begin() as transaction:
                connection.exec_driver_sql("ANALYZE dispatch")
                connection.exec_driver_sql("ANALYZE employee")
                connection.exec_driver_sql("SET LOCAL enable_sort = off")
                connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
                chosen = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))
                transaction.rollback()
            assert "ix_employee_company_name" in chosen and "Presorted Key: employee.name" in chosen, chosen
            # Each employee probed for its rows of the month through (employee_id, dispatched_at), the month in the
            # index condition: not every row the employee ever had read and filtered (2 years: 24 rows each).
            probe = chosen.split("ix_dispatch_employee_month", 1)[-1].split("->", 1)[0]
            assert "ix_dispatch_employee_month" in chosen and "dispatched_at >=" in probe.split("Filter")[0], chosen


def test_the_run_filter_reads_the_months_tally_not_its_rows(as_admin, bureau_company):
    """The month's runs with sends, from the tally's rows of the month (a few per hour with sends), through its
    (company_id, hour, run_id, ...) index: not the month's 20 000 rows on a payday, nor a probe per run (which reads
    the whole month for a run with nothing in it)."""
    statements = page_statements(as_admin, "/solutions/kivra?month=2026-10", lambda s: True)
    (statement, parameters), = [(s, p) for s, p in statements if s.lstrip().startswith("SELECT payroll_run.id")]
    assert "FROM dispatch_tally" in statement and "FROM dispatch " not in statement and "dispatch.id" not in statement
    chosen = plan(statement, parameters)
    assert "ix_dispatch_tally_key" in chosen, chosen


def test_0019_adds_the_name_and_run_month_indexes_and_goes_down_again(migrated_app):
    def employee_indexes() -> set[str]:
        return {index["name"] for index in inspect(db.engine).get_indexes("employee")}

    upgrade(revision="0018_status_month_index")
    assert "ix_dispatch_run_id" in indexes() and "ix_dispatch_run_month" not in indexes()
    assert "ix_employee_company_name" not in employee_indexes()
    upgrade(revision="0019_status_page_order")
    assert "ix_dispatch_run_month" in indexes() and "ix_dispatch_run_id" not in indexes()
    assert "ix_employee_company_name" in employee_indexes()
    downgrade(revision="0018_status_month_index")
    assert "ix_dispatch_run_id" in indexes() and "ix_dispatch_run_month" not in indexes()
    assert "ix_employee_company_name" not in employee_indexes()
    upgrade()
    assert "ix_dispatch_run_month" in indexes() and "ix_employee_company_name" in employee_indexes()


def test_0021_indexes_an_employees_rows_by_month_and_goes_down_again(migrated_app):
    def employee_indexes() -> set[str]:
        return {index["name"] for index in inspect(db.engine).get_indexes("employee")}

    upgrade(revision="0020_dispatch_tally")
    assert "ix_dispatch_employee_id" in indexes() and "ix_dispatch_employee_month" not in indexes()
    assert "ix_employee_company_id" in employee_indexes()
    upgrade(revision="0021_employee_month_index")
    assert "ix_dispatch_employee_month" in indexes() and "ix_dispatch_employee_id" not in indexes()
    columns = next(index["column_names"] for index in inspect(db.engine).get_indexes("dispatch")
                   if index["name"] == "ix_dispatch_employee_month")
    assert columns == ["employee_id", "dispatched_at"]
    assert "ix_employee_company_id" not in employee_indexes() and "ix_employee_company_name" in employee_indexes()
    downgrade(revision="0020_dispatch_tally")
    assert "ix_dispatch_employee_id" in indexes() and "ix_dispatch_employee_month" not in indexes()
    assert "ix_employee_company_id" in employee_indexes()
    upgrade()
    assert "ix_dispatch_employee_month" in indexes() and "ix_employee_company_id" not in employee_indexes()
