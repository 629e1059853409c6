"""The bureau's people at work, through the web as a browser (and the CLI where the product has one): payroll
runs, sends now or scheduled, the activation prompt, Kivra's agreement, retain, corrections, joiners and leavers."""
import calendar
import re
from datetime import datetime, timedelta, timezone

from flask import Flask
from sqlalchemy import select

from kivra.employees.models import Employee
from kivra.extensions import db
from tests.lifecycle.browser import Browser, PageError
from tests.lifecycle.bureau import Firm, People, create_firm, signed_in_as
from tests.lifecycle.invariants import Findings
from tests.lifecycle.stack import Stack

SCHEDULE_AHEAD = timedelta(seconds=8)  # a scheduled send goes a little later, while the month's other sends run


def period(month: int) -> str:
    return f"2026-{month:02d}"


class Office:
    def __init__(self, stack: Stack, app: Flask, people: People, findings: Findings):
        self.stack, self.app, self.people, self.found = stack, app, people, findings
        self.browsers: dict[str, Browser] = {}

    def browser(self, firm: Firm) -> Browser:
        if firm.key not in self.browsers:
            self.browsers[firm.key] = Browser(self.stack.web.url, *signed_in_as(firm)).sign_in()
        return self.browsers[firm.key]

    def close(self) -> None:
        for browser in self.browsers.values():
            browser.close()

    def act(self, month: int, firm: Firm, what: str, action, *args):
        """One thing a person does; a page that breaks is a finding, and the month goes on without it."""
        try:
            return action(*args)
        except PageError as error:
            self.found.add(month, firm.name, "the web works", f"{what}: {error}")
            return None

    # --- the company arrives ---------------------------------------------------------------------------------

    def join(self, firm: Firm) -> None:
        with self.app.app_context():
            statuses = create_firm(firm, self.people)
            db.session.remove()
        self.stack.sandbox.admin("POST", "recipients", statuses)
        if firm.kivra == "vla":  # moved from the web payroll: the operator imports its agreement
            self.stack.cli("kivra", "import-vla", firm.orgnr, "--approver", f"VLA-godkännare {firm.key}",
                           "--approved", "2024-05-01", "--scope", "payslips")

    # --- between months -----------------------------------------------------------------------------------------

    def events(self, month: int, firm: Firm) -> None:
        b = self.browser(firm)
        for event in firm.events.get(month, []):
            if event in ("activate", "reactivate"):
                self.act(month, firm, event, b.post, "/solutions/kivra/agreement", {"payslips": "1"})
            elif event == "narrow":
                self.act(month, firm, event, b.post, "/solutions/kivra/agreement", {"invoices": "1"})
            elif event == "widen":
                self.act(month, firm, event, b.post, "/solutions/kivra/agreement", {"payslips": "1", "invoices": "1"})
            elif event == "discontinue":
                self.act(month, firm, "open the confirmation", b.get, "/solutions/kivra/discontinue")
                self.act(month, firm, event, b.post, "/solutions/kivra/discontinue")
            elif event in ("retain_on", "retain_off"):
                self.act(month, firm, event, b.post, "/solutions/kivra/retain",
                         {"retain": "1"} if event == "retain_on" else {})
            elif event == "join":
                self.act(month, firm, event, self.hire, b, firm, month)
            elif event in ("leave", "min_lon_only"):
                self.act(month, firm, event, self.change_employee, b, firm, month, event)

    def hire(self, b: Browser, firm: Firm, month: int) -> None:
        number = self.people.new_number()
        b.post("/employees/new", {
            "name": f"{firm.key} Nyanställd {month:02d}", "personnummer": f"{number[:8]}-{number[8:]}",
            "email": f"ny{month}@{firm.orgnr}.example", "employment_start": f"{period(month)}-01",
            "monthly_salary": "28 000", "tax_rate": "31",
        })
        self.people.status[number] = "user"
        self.stack.sandbox.admin("POST", "recipients", {number: "user"})

    def change_employee(self, b: Browser, firm: Firm, month: int, change: str) -> None:
        """A leaver (last day: the end of the month before) or an employee kept on Min lön, edited in the form."""
        with self.app.app_context():
            employee = db.session.scalars(
                select(Employee).where(Employee.company_id == firm.company_id, Employee.employment_end.is_(None),
                                       Employee.min_lon_only.is_(False)).order_by(Employee.id)).first()
            db.session.expunge(employee)
            db.session.remove()
        previous = month - 1 or 12
        end = f"2026-{previous:02d}-{calendar.monthrange(2026, previous)[1]}"
        kronor, ore = divmod(employee.monthly_salary_ore, 100)
        form = {"name": employee.name, "personnummer": f"{employee.personnummer[:8]}-{employee.personnummer[8:]}",
                "email": employee.email or "", "employment_start": employee.employment_start.isoformat(),
                "monthly_salary": f"{kronor},{ore:02d}", "tax_rate": str(employee.tax_rate),
                "bank_account": employee.bank_account or ""}
        if change == "leave":
            form["employment_end"] = end
        else:
            form["min_lon_only"] = "y"
        b.post(f"/employees/{employee.id}/edit", form)

    # --- the month's run ----------------------------------------------------------------------------------------

    def run_month(self, month: int, firm: Firm) -> int | None:
        """Create and calculate the run, perhaps correct a payslip first, send (now or scheduled), post."""
        b = self.browser(firm)
        created = self.act(month, firm, "create the run", b.post, "/runs",
                           {"period": period(month), "payout_date": f"{period(month)}-25"})
        if created is None:
            return None
        run_id = int(re.search(r"/runs/(\d+)", str(created.url)).group(1))
        if self.act(month, firm, "calculate the run", b.post, f"/runs/{run_id}/calculate") is None:
            return run_id
        if firm.does(month, "correct_before"):
            self.act(month, firm, "correct a payslip before the send", self.correct, b, run_id, 1)
        self.act(month, firm, "send the payslips", self.send, b, firm, month, run_id)
        self.act(month, firm, "post the voucher", b.post, f"/runs/{run_id}/post")
        return run_id

    def send(self, b: Browser, firm: Firm, month: int, run_id: int) -> None:
        form = {"when": "now"}
        if firm.does(month, "schedule"):  # the moment the page carries as `send_at` (UTC), a few seconds ahead
            moment = datetime.now(timezone.utc) + SCHEDULE_AHEAD
            form = {"send_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}
        answer = b.post(f"/runs/{run_id}/send", form)
        if 'id="activation_prompt"' not in answer.text:
            return
        carried = {k: v for k, v in form.items() if k == "send_at"}
        if firm.kivra == "prompt":  # Aktivera Kivra: the agreement, approved by the admin, sends the run
            b.get("/solutions/kivra/agreement", run=str(run_id), **carried)
            b.post("/solutions/kivra/agreement", {"payslips": "1", "run": str(run_id), **carried})
        else:  # Inte nu: Min lön only
            b.post(f"/runs/{run_id}/send/min-lon", carried)

    def correct(self, b: Browser, run_id: int, how_many: int) -> int:
        """Add a line to the first payslips of the run and make a corrected version of each."""
        payslips = sorted({int(i) for i in re.findall(r"/payslips/(\d+)", b.get(f"/runs/{run_id}").text)})
        for payslip_id in payslips[:how_many]:
            b.post(f"/payslips/{payslip_id}/lines", {"kind": "addition", "description": "Övertid", "amount": "1 500"})
            b.post(f"/payslips/{payslip_id}/correct")
        return len(payslips[:how_many])

    def send_corrections(self, month: int, firm: Firm, run_id: int) -> None:
        b = self.browser(firm)
        if self.act(month, firm, "correct payslips after the send", self.correct, b, run_id, 2):
            self.act(month, firm, "send the corrections", b.post, f"/runs/{run_id}/send/corrections")

    def step_page_explains(self, firm: Firm, run_id: int) -> bool:
        """Does the run's step page say why its payslips wait (a notice, or the time they are scheduled for)?"""
        page = self.browser(firm).get(f"/runs/{run_id}/send-and-post").text
        area = page[page.find('id="send_payslips"'):page.find('id="kivra_entry"')]
        return 'class="notice"' in area or 'class="posted"' in area
