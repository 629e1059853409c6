"""Anställda: list, add and edit employees of the signed-in user's company."""
from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block, render_blocks
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kivra.agreement import kivra_calls
from kivra.agreement.models import JobKind
from kivra.dispatch import kivra_check, kivra_jobs
from kivra.employees.models import Employee
from kivra.extensions import db
from kivra.mail import outbox
from kivra.mail.models import MailKind, MailState, OutboundEmail
from kivra.money import typed_kronor
from kivra.portal import invitations
from kivra.web import is_htmx, redirect_to, render
from kivra.web.employees import bp
from kivra.web.employees.forms import EmployeeForm
from kivra.web.loaders import get_employee


@bp.get("")
def index():
    return render("employees/index.html", **_register())


def _register(**extra) -> dict:
    employees = db.session.scalars(
        select(Employee).where(Employee.company_id == current_user.company_id).order_by(Employee.name)
    ).all()
    ids = [employee.id for employee in employees]
    return dict(employees=employees, min_lon=invitations.accounts_of(ids), emails=outbox.of_employees(ids),
                kivra_check=kivra_calls.latest(current_user.company_id, JobKind.USERMATCH), **extra)


@bp.post("/<int:employee_id>/min-lon-invitation")
def invite_to_min_lon(employee_id: int):
    employee = get_employee(employee_id)
    try:
        invitation = invitations.invite(employee, current_user)
    except invitations.NoEmailAddress:
        flash(_("%(name)s has no e-mail address. Add one, then invite them to Min lön.", name=employee.name), "error")
    else:
        _said_invited(employee, invitation)
    return redirect_to(url_for("employees.index"))


def _said_invited(employee: Employee, invitation: invitations.Invitation) -> None:
    """What the page says is what happened: queued for the worker to send, or (no e-mail here) the link to hand on."""
    if invitation.email is None:
        flash(_("E-mail is turned off in this installation, so no invitation was sent. Give %(name)s this link for "
                "choosing a password; it works once, for %(days)d days: %(link)s", name=employee.name,
                days=invitations.VALID_FOR.days, link=invitation.link), "info")
    else:
        flash(_("The invitation to Min lön for %(email)s is queued and goes out within a minute; its row below says "
                "when it has been sent.", email=invitation.to_address), "success")


@bp.post("/<int:employee_id>/emails/<int:email_id>/send-again")
def send_email_again(employee_id: int, email_id: int):
    """*Skicka igen* on a failed e-mail: an invitation is made anew (its old link may have expired), anything else
    is queued again as it was."""
    employee = get_employee(employee_id)
    email = db.session.scalar(select(OutboundEmail).where(OutboundEmail.id == email_id,
                                                          OutboundEmail.employee_id == employee.id))
    if email is None:
        abort(404)
    if email.state != MailState.FAILED:
        flash(_("That e-mail has not failed, so there is nothing to send again."), "info")
    elif email.kind == MailKind.INVITATION:
        if not employee.email:
            flash(_("%(name)s has no e-mail address. Add one, then invite them to Min lön.", name=employee.name),
                  "error")
        else:
            _said_invited(employee, invitations.invite(employee, current_user))
    else:
        outbox.send_again(email)
        db.session.commit()
        flash(_("The e-mail to %(email)s is queued again.", email=email.to_address), "success")
    return redirect_to(url_for("employees.index"))


@bp.post("/kivra-check")
def kivra_check_now():
    """Ask Kivra which employees are Kivra users: a worker makes one batched usermatch; the register follows it."""
    try:
        kivra_check.require_active(current_user.company_id)
    except kivra_check.KivraNotActive:
        flash(_("Kivra is not active for the company, so there is nothing to ask. Kivra is activated under “More Solutions”."), "info")
        return redirect_to(url_for("employees.index"))
    kivra_jobs.ask(current_user.company_id, JobKind.USERMATCH, current_user.id)
    if is_htmx():
        return render_block("employees/index.html", "kivra_check", **_register())
    return redirect(url_for("employees.index"), code=303)


@bp.get("/kivra-check")
def kivra_check_progress():
    """The check's state, which htmx polls while a worker asks Kivra; once answered, the register's Kivra column too."""
    if not is_htmx():
        return redirect_to(url_for("employees.index"))
    context = _register()
    if context["kivra_check"] is not None and context["kivra_check"].is_open:
        return render_block("employees/index.html", "kivra_check", **context)
    return render_blocks("employees/index.html", ["kivra_check", "register"], oob=True, **context)


@bp.route("/new", methods=["GET", "POST"])
def new():
    return _edit(Employee(company_id=current_user.company_id), EmployeeForm())


@bp.route("/<int:employee_id>/edit", methods=["GET", "POST"])
def edit(employee_id: int):
    employee = get_employee(employee_id)
    form = EmployeeForm(obj=employee)
    if not form.is_submitted():
        form.personnummer.data = employee.pnr.formatted()
        form.monthly_salary.data = typed_kronor(employee.monthly_salary_ore)
        form.tax_rate.data = str(employee.tax_rate).replace(".", ",")
    return _edit(employee, form)


def _edit(employee: Employee, form: EmployeeForm):
    if form.validate_on_submit():
        if _personnummer_taken(form.parsed_personnummer.digits, employee.id):
            form.personnummer.errors.append(_("Another employee in the company already has this personnummer."))
        else:
            _fill(employee, form)
            db.session.add(employee)
            try:
                db.session.commit()
            except IntegrityError:  # the same number saved at the same moment elsewhere
                db.session.rollback()
                form.personnummer.errors.append(_("Another employee in the company already has this personnummer."))
            else:
                flash(_("%(name)s is saved.", name=employee.name), "success")
                target = url_for("employees.index")
                if is_htmx():
                    return "", 204, {"HX-Redirect": target}
                return redirect(target, code=303)
    status = 422 if form.errors else 200
    return render("employees/form.html", "employee_form", status=status, form=form, employee=employee)


def _personnummer_taken(digits: str, own_id: int | None) -> bool:
    query = select(Employee.id).where(
        Employee.company_id == current_user.company_id, Employee.personnummer == digits
    )
    if own_id is not None:
        query = query.where(Employee.id != own_id)
    return db.session.scalar(query) is not None


def _fill(employee: Employee, form: EmployeeForm) -> None:
    employee.name = form.name.data.strip()
    employee.personnummer = form.parsed_personnummer.digits
    employee.email = (form.email.data or "").strip() or None
    employee.employment_start = form.employment_start.data
    employee.employment_end = form.employment_end.data
    employee.monthly_salary_ore = form.monthly_salary.ore
    employee.tax_rate = form.parsed_tax_rate
    employee.bank_account = (form.bank_account.data or "").strip() or None
    employee.min_lon_only = bool(form.min_lon_only.data)
