"""VLA's agreement and status endpoints: once Payroll has taken the agreement over, a pointer here."""
from kivra.web import current_company, render
from kivra.web.legacy import bp


def _page(which: str):
    company = current_company()
    moved = company.moved_from_vla_at is not None  # the agreement was taken over by Payroll
    return render("legacy/kivra.html", which=which, moved=moved, status=410 if moved else 200)


@bp.get("/agreement")
def agreement_page():
    return _page("agreement")


@bp.get("/status")
def status_page():
    return _page("status")
