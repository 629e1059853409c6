"""The bureau and its year, as data: which companies, when they start, how they come to Kivra, and what happens to
them month by month. Companies and their first employees are written to the database directly: the product has no
company sign-up and no bulk import (README: companies are made by the demo seed or by hand). Everything after that
goes through the web or the CLI (tests/lifecycle/test_year.py)."""
import os
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

from kivra.accounts.models import Company, User
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.identity import with_check_digit
from tests.conftest import PASSWORD, PASSWORD_HASH

SMALL = os.environ.get("LIFECYCLE_SCALE", "full") == "small"
MONTHS = range(1, 13)  # payroll months of 2026
KILL_AT_SHARE = 0.25  # a worker is SIGKILLed once this share of the big send is done
# The sandbox's two foreign tenants (kivra/sandbox/config.py): access is granted to one and refused for the other.
GRANTED_ORGNR, REFUSED_ORGNR = "5560360793", "5567037485"


def orgnr(n: int) -> str:
    """A valid-looking org.nr with its Luhn digit."""
    return with_check_digit(f"1955600{n:04d}")[2:]


@dataclass
class Firm:
    key: str
    size: int
    first_month: int
    customer: str  # old: created before the cut-over | new: after it (Kivra active from the start)
    # How Kivra comes in: prompt (approved from the first send's prompt) | not_now (Min lön, activated later from
    # More Solutions) | vla (imported from the web payroll with `flask kivra import-vla`) | new | none (never)
    kivra: str
    events: dict[int, list[str]] = field(default_factory=dict)
    orgnr: str = ""
    locale: str = "en"
    company_id: int = 0
    admin_email: str = ""

    @property
    def name(self) -> str:
        return f"{self.key} AB"

    def active_in(self, month: int) -> bool:
        return month >= self.first_month

    def does(self, month: int, action: str) -> bool:
        return action in self.events.get(month, [])


def firms() -> list[Firm]:
    """21 companies, 1 to 2 000 employees. Events are listed by the month they happen in, before that month's run."""
    plan = [
        Firm("Ett", 1, 1, "old", "prompt"),
        Firm("Två", 2, 1, "old", "not_now", {4: ["activate"]}),
        Firm("Tre", 3, 1, "old", "vla"),
        Firm("Fyra", 4, 2, "old", "none"),
        Firm("Fem", 5, 1, "old", "prompt", {3: ["retain_on"], 8: ["retain_off"]}),
        Firm("Sex", 6, 2, "old", "prompt", {5: ["narrow"], 7: ["widen"]}),
        Firm("Åtta", 8, 1, "old", "prompt", {4: ["discontinue"], 6: ["reactivate"]}),
        Firm("Tio", 10, 3, "new", "new", {5: ["schedule"], 9: ["schedule"]}),
        Firm("Tolv", 12, 1, "old", "vla", {2: ["correct_after"], 5: ["correct_after"]}),
        Firm("Femton", 15, 2, "old", "prompt", {3: ["correct_before"], 7: ["join", "leave"]}),
        Firm("Arton", 18, 1, "old", "prompt", {m: ["schedule"] for m in (2, 6, 9, 12)}),
        Firm("Tjugo", 20, 4, "new", "new", {6: ["retain_on", "schedule"], 8: ["correct_after"]}),
        Firm("Annat", 25, 3, "old", "prompt"),  # its org.nr belongs to another sender: access granted
        Firm("Avvisat", 30, 3, "old", "prompt"),  # the same, refused: Min lön with the reason
        Firm("Fyrtio", 40, 1, "old", "prompt",
             {2: ["retain_on"], 6: ["correct_after"], 9: ["discontinue"], 11: ["reactivate", "schedule"]}),
        Firm("Femtio", 50, 2, "old", "vla", {4: ["join"], 8: ["narrow"], 10: ["widen", "leave"]}),
        Firm("Sextio", 60, 1, "old", "prompt", {m: ["schedule"] for m in (3, 5, 7, 11)} | {6: ["correct_after"]}),
        Firm("Åttio", 80, 5, "new", "new", {6: ["retain_on"], 7: ["join", "leave"], 10: ["retain_off"]}),
        Firm("Hundra", 100, 1, "old", "prompt", {3: ["min_lon_only", "join"], 5: ["leave"], 9: ["join", "leave"]}),
        Firm("Hundrafemtio", 150, 6, "new", "new", {7: ["schedule"], 10: ["discontinue"], 12: ["reactivate"]}),
        Firm("Stor", 2000, 11, "new", "new", {11: ["kill"], 12: ["correct_after"]}),  # late: two months
    ]
    for number, firm in enumerate(plan):
        firm.orgnr = {"Annat": GRANTED_ORGNR, "Avvisat": REFUSED_ORGNR}.get(firm.key, orgnr(number))
        firm.locale = "sv" if number % 2 else "en"
        firm.admin_email = f"admin@{firm.orgnr}.example"
        if SMALL:
            firm.size = 120 if firm.size == 2000 else min(firm.size, 6)
    return plan


class People:
    """Every person the bureau employs, with what Kivra's registry says of them (kept in step with the sandbox)."""

    def __init__(self, seed: int = 2026):
        self.rng = random.Random(seed)
        self.next_index = 0
        self.status: dict[str, str] = {}  # personnummer -> user | not_user | opted_out | dormant

    def new_number(self) -> str:
        i = self.next_index
        self.next_index += 1
        return with_check_digit(f"{1950 + i // 336}{1 + i // 28 % 12:02d}{1 + i % 28:02d}{i % 1000:03d}")

    @staticmethod
    def status_for(index: int) -> str:
        """Most are Kivra users; every tenth is not, some opted out of senders, a few are dormant."""
        if index % 10 == 7:
            return "not_user"
        if index % 23 == 5:
            return "opted_out"
        return "dormant" if index % 31 == 3 else "user"

    def churn(self, month: int) -> dict[str, str]:
        """Between months: some become Kivra users, some opt out, one opted-out person comes back."""
        changes: dict[str, str] = {}
        by_status: dict[str, list[str]] = {}
        for number, status in sorted(self.status.items()):
            by_status.setdefault(status, []).append(number)
        for status, count, becomes in (("not_user", 3, "user"), ("user", 2, "opted_out"), ("opted_out", 1, "user")):
            pool = by_status.get(status, [])
            for number in self.rng.sample(pool, min(count, len(pool))):
                changes[number] = becomes
        self.status.update(changes)
        return changes


def coordination_number(n: int) -> str:
    """A samordningsnummer (day of birth + 60): Kivra does not accept it, so its payslips go to Min lön."""
    return with_check_digit(f"1960{1 + n % 12:02d}{61 + n % 28:02d}{100 + n:03d}")


def create_firm(firm: Firm, people: People) -> dict[str, str]:
    """The company (created before or after the cut-over), its admin, and its first employees. Returns the Kivra
    statuses of the new employees, for the sandbox's registry."""
    created = datetime(2025, 3, 1, 12, tzinfo=timezone.utc) if firm.customer == "old" \
        else datetime(2026, min(firm.first_month, 12), 1, 12, tzinfo=timezone.utc)
    company = Company(name=firm.name, orgnr=firm.orgnr, employer_contribution_rate=Decimal("31.42"),
                      created_at=created, street_address="Storgatan 1", postal_code="111 22", city="Stockholm",
                      email=f"lon@{firm.orgnr}.example", phone="08-123 45 67")
    admin = User(company=company, role="admin", email=firm.admin_email, name=f"Admin {firm.key}",
                 locale=firm.locale, password_hash=PASSWORD_HASH)
    db.session.add_all([company, admin])
    db.session.flush()
    statuses: dict[str, str] = {}
    salary = 3_500_000 if firm.size >= 1000 else 2_500_000  # 2 000 × 35 000 kr: a run of 70 M kr
    for index in range(firm.size):
        if firm.size >= 20 and index == firm.size - 1:
            number = coordination_number(firm.company_id or len(people.status))
        else:
            number = people.new_number()
            statuses[number] = people.status_for(people.next_index)
        db.session.add(Employee(company_id=company.id, name=f"{firm.key} Person {index:04d}", personnummer=number,
                                email=f"p{index}@{firm.orgnr}.example", employment_start=date(2020, 1, 1),
                                monthly_salary_ore=salary + index * 1_000, tax_rate=Decimal("30")))
    db.session.commit()
    firm.company_id = company.id
    people.status.update(statuses)
    return statuses


def signed_in_as(firm: Firm) -> tuple[str, str]:
    return firm.admin_email, PASSWORD
