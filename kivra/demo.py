"""Demo AB: an admin, a payroll user, 25 employees and a calculated payroll run."""
from datetime import date, datetime, timezone
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from kivra import clock
from kivra.accounts.models import Company, User
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.identity import with_check_digit
from kivra.payroll import service

DEMO_ORGNR = "5568402266"
USERS = (
    ("admin@demo.se", "Anna Admin", "admin", "demo-admin"),
    ("lon@demo.se", "Lars Lönesson", "payroll", "demo-lon"),
)
NAMES = (
    "Astrid Lindqvist", "Björn Åkesson", "Cecilia Öberg", "David Nilsson", "Elin Karlsson",
    "Fredrik Johansson", "Greta Andersson", "Hampus Eriksson", "Ida Larsson", "Johan Olsson",
    "Karin Persson", "Lukas Svensson", "Maja Gustafsson", "Nils Pettersson", "Olivia Jonsson",
    "Per Jansson", "Quinn Hansson", "Rut Bengtsson", "Sven Jönsson", "Tove Lindberg",
    "Ulf Jakobsson", "Vera Magnusson", "William Lindström", "Xenia Axelsson", "Yusuf Berg",
)


def employee_numbers() -> list[str]:
    numbers = [with_check_digit(f"19{70 + i % 30:02d}{1 + i % 12:02d}{1 + i * 3 % 28:02d}{200 + i * 7:03d}") for i in range(24)]
    numbers.append(with_check_digit("19850374123"))  # day 14 + 60: a samordningsnummer
    return numbers


def seed() -> bool:
    """Create the demo company unless it exists. Returns whether anything was created."""
    if db.session.scalar(select(Company).where(Company.orgnr == DEMO_ORGNR)):
        return False
    company = Company(
        created_at=datetime(2025, 1, 2, tzinfo=timezone.utc),  # an existing customer: its first send asks about Kivra
        name="Demo AB",
        orgnr=DEMO_ORGNR,
        employer_contribution_rate=current_app.config["EMPLOYER_CONTRIBUTION_RATE"],
        street_address="Storgatan 1",
        postal_code="111 22",
        city="Stockholm",
        email="lon@demo.se",
        phone="08-123 456 00",
    )
    db.session.add(company)
    for email, name, role, password in USERS:
        user = User(company=company, email=email, name=name, role=role, locale="sv")
        user.set_password(password)
        db.session.add(user)
    db.session.flush()
    for index, (name, pnr) in enumerate(zip(NAMES, employee_numbers())):
        db.session.add(Employee(
            company_id=company.id,
            name=name,
            personnummer=pnr,
            email=None if index == 3 else f"{name.split()[0].lower()}@demo.se".replace("ö", "o").replace("å", "a"),
            employment_start=date(2020 + index % 6, 1 + index % 12, 1),
            monthly_salary_ore=(28_000 + index * 1_250) * 100,
            tax_rate=Decimal("30") + index % 4,
            bank_account=f"8327-9 {9_400_000_000 + index * 7_919}" if index % 5 else None,
        ))
    db.session.commit()
    today = clock.today_in_sweden()
    period = today.replace(day=1)
    run = service.create_run(company, period, period.replace(day=25))
    service.calculate_run(run)
    return True
