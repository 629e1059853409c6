"""Företagsinställningar: an admin edits the company's details; a new name goes on to Kivra through a worker."""
from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_blocks

from kivra import agreement
from kivra.accounts import settings
from kivra.agreement import kivra_calls, onboarding
from kivra.agreement.models import JobKind
from kivra.dispatch import kivra_jobs, service as dispatch
from kivra.web import current_company, is_htmx, redirect_to, render
from kivra.web.company import bp
from kivra.web.company.forms import CompanySettingsForm


@bp.before_request
def admins_only():
    """Every address here, page or fragment: a payroll administrator is told who may change the settings."""
    if not current_user.is_admin:
        names = ", ".join(admin.name for admin in agreement.admins(current_user.company_id))
        return render("errors/error.html", "error", status=403, kind=403, reason=_(
            "Only an administrator can change the company settings. Ask an administrator: %(names)s.", names=names))
    return None


def _page(form: CompanySettingsForm, company, status: int = 200):
    return render("company/settings.html", "settings_form", status=status, form=form, company=company,
                  **_rename(company))


def _rename(company) -> dict:
    """Kivra's tenant name: whether the company has a tenant, and the latest rename asked for."""
    return dict(tenant_key=onboarding.tenant_key(company.id),
                rename_job=kivra_calls.latest(company.id, JobKind.TENANT_NAME))


@bp.route("/settings", methods=["GET", "POST"])
def edit():
    company = current_company()
    form = CompanySettingsForm(obj=company, orgnr_locked=dispatch.has_sent_before(company))
    if not form.is_submitted():
        form.fill_from(company)
        return _page(form, company)
    if form.validate():
        try:
            renamed = settings.save(company, form.parsed_settings())
        except settings.OrgnrTaken:
            form.orgnr.errors.append(_("Another company already has this organisation number."))
        else:
            flash(_("The company settings are saved."), "success")
            if renamed and onboarding.tenant_key(company.id):
                kivra_jobs.ask(company.id, JobKind.TENANT_NAME, current_user.id)
            if not is_htmx():
                return redirect_to(url_for("company.edit"))
            form = CompanySettingsForm(formdata=None, obj=company, orgnr_locked=form.orgnr_locked)
            form.fill_from(company)  # the page as saved, and the rename's state beside it
            return render_blocks("company/settings.html", ["settings_form", "tenant_name"], oob=True, form=form,
                                 company=company, **_rename(company))
    return _page(form, company, status=422)


@bp.get("/settings/kivra-name")
def tenant_name_progress():
    """The rename's state, which htmx polls while a worker tells Kivra; a browser gets the page."""
    if not is_htmx():
        return redirect_to(url_for("company.edit"))
    company = current_company()
    return render("company/settings.html", "tenant_name", company=company, **_rename(company))


@bp.post("/settings/kivra-name")
def tenant_name_again():
    """Try again after Kivra refused the name or could not be reached."""
    company = current_company()
    if onboarding.tenant_key(company.id):
        kivra_jobs.ask(company.id, JobKind.TENANT_NAME, current_user.id)
    if is_htmx():
        return render("company/settings.html", "tenant_name", company=company, **_rename(company))
    return redirect_to(url_for("company.edit"))
