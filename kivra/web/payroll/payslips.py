"""A payslip in a run: its lines, its versions and their PDFs."""
from flask import Response, abort, flash, redirect, url_for
from flask_babel import gettext as _

from kivra.dispatch.corrections import corrects_received
from kivra.extensions import db
from kivra.payroll import service
from kivra.payroll.calculation import NegativeGrossError
from kivra.payroll.models import Payslip, PayslipLine
from kivra.payroll.printable import UnprintableText
from kivra.web import is_htmx, render
from kivra.web.loaders import get_payslip
from kivra.web.payroll import bp
from kivra.web.payroll.forms import LineForm
from kivra.web.text_rules import unprintable_message


def _page(payslip: Payslip, form: LineForm | None = None, status: int = 200):
    try:
        totals = service.payslip_totals(payslip)
    except NegativeGrossError:
        totals = None
    return render(
        "payroll/payslip.html",
        "payslip_lines",
        status=status,
        payslip=payslip,
        run=payslip.run,
        totals=totals,
        has_changes=service.has_changes(payslip),
        form=form or LineForm(formdata=None),
    )


@bp.get("/payslips/<int:payslip_id>")
def payslip(payslip_id: int):
    return _page(get_payslip(payslip_id))


@bp.post("/payslips/<int:payslip_id>/lines")
def add_line(payslip_id: int):
    payslip = get_payslip(payslip_id)
    form = LineForm()
    if not form.validate_on_submit():
        return _page(payslip, form, status=422)
    payslip.lines.append(
        PayslipLine(kind=form.kind.data, description=form.description.data.strip(), amount_ore=form.amount.ore)
    )
    db.session.commit()
    return _after_change(payslip)


@bp.post("/payslips/<int:payslip_id>/lines/<int:line_id>/delete")
def delete_line(payslip_id: int, line_id: int):
    payslip = get_payslip(payslip_id)
    line = next((l for l in payslip.lines if l.id == line_id), None)
    if line is None:
        abort(404)
    if line.kind == "salary":
        flash(_("The monthly salary line cannot be removed; a draft run takes the salary from the employee register."), "error")
    else:
        payslip.lines.remove(line)
        db.session.commit()
    return _after_change(payslip)


def _after_change(payslip: Payslip):
    if is_htmx():
        return _page(payslip)
    return redirect(url_for("payroll.payslip", payslip_id=payslip.id), code=303)


@bp.post("/payslips/<int:payslip_id>/correct")
def correct(payslip_id: int):
    payslip = get_payslip(payslip_id)
    if payslip.run.is_draft:
        flash(_("Payslips in a draft run get their first version when the run is calculated."), "info")
    else:
        try:
            version = service.correct(payslip)
        except NegativeGrossError:
            db.session.rollback()
            flash(_("The deductions are larger than the pay. Correct the lines first."), "error")
        except UnprintableText as error:
            db.session.rollback()
            flash(unprintable_message(error.char), "error")
        except service.CorrectedMeanwhileError:
            flash(_("Someone else created a corrected version at the same time. Its version is shown below."), "error")
            return _page(get_payslip(payslip_id), status=409)
        else:
            if version is None:
                flash(_("Nothing has changed since the latest version."), "info")
            else:
                flash(_("Corrected version %(number)d created.", number=version.number), "success")
    return redirect(url_for("payroll.payslip", payslip_id=payslip.id), code=303)


def get_version(payslip: Payslip, number: int):
    version = next((v for v in payslip.versions if v.number == number), None)
    if version is None:
        abort(404)
    return version


@bp.get("/payslips/<int:payslip_id>/v<int:number>")
def version(payslip_id: int, number: int):
    """The payslip document of one version, as HTML."""
    payslip = get_payslip(payslip_id)
    return render("payroll/payslip_version.html", payslip=payslip, run=payslip.run, version=get_version(payslip, number))


@bp.get("/payslips/<int:payslip_id>/v<int:number>.pdf")
def pdf(payslip_id: int, number: int):
    payslip = get_payslip(payslip_id)
    version = get_version(payslip, number)
    filename = f"lonebesked-{payslip.run.period:%Y-%m}-{payslip.id}-v{number}.pdf"
    return Response(
        service.version_pdf(version, corrects_received(version)),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "private, no-store"},
    )
