from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from kivra.web.forms import Form

ROLE_LABELS = {"admin": _l("Administrator"), "payroll": _l("Payroll administrator")}
ROLE_CHOICES = [SelectChoice(role, label) for role, label in ROLE_LABELS.items()]


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


class InviteForm(Form):
    name = StringField(_l("Name"), filters=[_stripped], validators=[
        DataRequired(message=_l("Enter the name of the person you invite.")),
        Length(max=200, message=_l("The name can be at most %(max)d characters long.")),
    ])
    email = EmailField(_l("E-mail"), filters=[_stripped], validators=[
        DataRequired(message=_l("Enter the e-mail address to send the invitation to.")),
        Length(max=254, message=_l("The e-mail address can be at most %(max)d characters long.")),
        Email(message=_l("Enter a valid e-mail address."), check_deliverability=False),
    ])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="payroll")


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class ActionForm(Form):
    """A bare POST button (resend, deactivate, reactivate): only its CSRF token."""
