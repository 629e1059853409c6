"""Min lön's sign-in, and the employee's own settings."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired

from kivra.web.forms import ChoosePasswordForm, Form


class PortalLoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(message=_l("Enter your e-mail address."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter your password."))])
    next = HiddenField()


class SettingsForm(Form):
    notify_new_payslips = BooleanField(_l("E-mail me when I have a new payslip"))


class ChangePasswordForm(ChoosePasswordForm):
    current = PasswordField(_l("Current password"), validators=[
        DataRequired(message=_l("Enter your current password."))])
