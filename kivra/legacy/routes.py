"""VLA's agreement and status endpoints: the imported agreement until the company sends from here, then a pointer."""
from flask import Blueprint
from flask_login import current_user

from kivra.accounts.models import Company
from kivra.dispatch import service as dispatch
from kivra.extensions import db
from kivra.solutions import agreement
from kivra.web import render

bp = Blueprint("legacy", __name__, url_prefix="/vla/kivra")


def _page(which: str):
    company = db.session.get(Company, current_user.company_id)
    moved = dispatch.has_sent_here(company)
    return render(
        "legacy/kivra.html",
        which=which,
        moved=moved,
        agreement=None if moved else agreement.in_force(company.id),
        status=410 if moved else 200,
    )


@bp.get("/agreement")
def agreement_page():
    return _page("agreement")


@bp.get("/status")
def status_page():
    return _page("status")
