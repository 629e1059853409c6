"""The base of every form, and forms both sides of the site use: choosing a password (from an invitation or a reset
link), and asking for a reset link."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from kivra.web.text_rules import applies_to, text_rule

MIN_PASSWORD_LENGTH = 10


class Form(FlaskForm):
    """Every form of the site: each text field refuses control characters (`TextRule`, checked first), and the
    fields named in `printed` (they reach the payslip PDF) also what the payslip's font cannot print."""

    printed: frozenset[str] = frozenset()

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            if applies_to(field):
                field.validators = [text_rule(field, field.short_name in form.printed), *field.validators]
            return field


class ChoosePasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[
        DataRequired(message=_l("Choose a password.")),
        Length(min=MIN_PASSWORD_LENGTH, message=_l("The password must be at least %(min)d characters long.")),
        Length(max=200, message=_l("The password can be at most %(max)d characters long.")),
    ])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(message=_l("Repeat the password.")),
        EqualTo("password", message=_l("The passwords do not match.")),
    ])


class ForgotPasswordForm(Form):
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(message=_l("Enter your e-mail address.")),
        Length(max=254, message=_l("The e-mail address can be at most %(max)d characters long.")),
        Email(message=_l("Enter a valid e-mail address."), check_deliverability=False),
    ])
