"""The e-mails Min lön's invitations send (the payslip notice is kivra/dispatch/notices.py)."""
from flask_babel import force_locale, gettext as _, ngettext

from kivra.employees.models import Employee
from kivra.locales import babel_locale
from kivra.mail import outbox
from kivra.mail.models import MailKind, OutboundEmail

LANGUAGES = ("sv", "en")  # Swedish first: the employee's language is not known before they sign in


def invitation(employee: Employee, company: str, link: str, login: str, days: int) -> OutboundEmail:
    """The invitation to Min lön, in Swedish and then English."""
    subjects, parts = [], []
    for locale in LANGUAGES:
        with force_locale(babel_locale(locale)):
            subjects.append(_("Your invitation to Min lön"))
            parts.append("\n\n".join((
                _("Hello %(name)s,", name=employee.name),
                _("%(company)s invites you to Min lön, where you read your payslips.", company=company),
                ngettext("Choose your password here. The link works once, for %(num)d day:",
                         "Choose your password here. The link works once, for %(num)d days:", days) + "\n" + link,
                _("Then log in at %(login)s with your e-mail address %(email)s.", login=login, email=employee.email),
            )))
    body = "\n\n———\n\n".join(parts) + "\n"
    return outbox.queue(MailKind.INVITATION, employee.email, " / ".join(subjects), body, employee_id=employee.id,
                        company_id=employee.company_id)
