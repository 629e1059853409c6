""""Du har ett nytt lönebesked": when payslips are published in Min lön, each employee who has a Min lön account (and
has not turned these notices off) gets one short e-mail in the language they last used there — a link to Min lön, no
amount, no personnummer, no attachment.

Written in the transaction that publishes, keyed by send, employee and the newest version published
(kivra/mail/outbox.py `queue_once`): a retried or taken-over row, or two payslips of one employee published together,
never make a second one; a correction sent later in the same send is a new payslip, and gets its own."""
from flask_babel import force_locale, gettext as _
from sqlalchemy import select

from kivra.accounts.models import Company
from kivra.employees.models import Employee
from kivra.employees.portal_account import PortalAccount
from kivra.extensions import db
from kivra.locales import babel_locale
from kivra.mail import outbox
from kivra.mail.links import public_url
from kivra.mail.models import MailKind


def payslips_published(send_id: int, published: list[tuple[int, int]]) -> int:
    """Queue the notices for the payslips just published by this send, as (employee id, version id) pairs; how many
    were new."""
    if not published or outbox.disabled():
        return 0
    newest: dict[int, int] = {}
    for employee_id, version_id in published:
        newest[employee_id] = max(version_id, newest.get(employee_id, version_id))
    employee_ids = list(newest)
    found = db.session.execute(
        select(PortalAccount.locale, Employee, Company.name)
        .join(Employee, Employee.id == PortalAccount.employee_id).join(Company, Company.id == Employee.company_id)
        .where(PortalAccount.employee_id.in_(set(employee_ids)), PortalAccount.password_hash.is_not(None),
               PortalAccount.notify_new_payslips.is_(True), Employee.email.is_not(None), Employee.email != "")
    ).all()
    link = public_url("portal.index") if found else ""
    queued = 0
    for locale, employee, company in found:
        with force_locale(babel_locale(locale)):
            subject = _("You have a new payslip")
            body = "\n\n".join((
                _("Hello %(name)s,", name=employee.name),
                _("%(company)s has sent you a new payslip in Min lön.", company=company),
                _("Log in to read it:") + "\n" + link,
                _("You can turn these e-mails off under Settings in Min lön."),
            )) + "\n"
        queued += outbox.queue_once(f"payslip-notice:{send_id}:{employee.id}:{newest[employee.id]}",
                                    MailKind.PAYSLIP_NOTICE, employee.email, subject, body, employee_id=employee.id,
                                    company_id=employee.company_id)
    return queued
