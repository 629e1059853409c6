"""Forms both sides of the site use: choosing a password (from an invitation or a reset link), and asking for a
reset link."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, StopValidation

from kivra import money
from kivra.web import i18n

MIN_PASSWORD_LENGTH = 10


class ChoosePasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[
        DataRequired(message=_l("Choose a password.")),
        Length(min=MIN_PASSWORD_LENGTH, message=_l("The password must be at least %(min)d characters long.")),
        Length(max=200, message=_l("The password can be at most %(max)d characters long.")),
    ])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(message=_l("Repeat the password.")),
        EqualTo("password", message=_l("The passwords do not match.")),
    ])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(message=_l("Enter your e-mail address.")),
        Length(max=254, message=_l("The e-mail address can be at most %(max)d characters long.")),
        Email(message=_l("Enter a valid e-mail address."), check_deliverability=False),
    ])


class KronorField(StringField):
    """An amount in kronor, typed as a plain number (`12 345,67`, `12345.67`): read into öre as `field.ore`, from 0
    to `maximum_ore`. What was typed stays the field's text, so a refused form shows it again. An empty field is left
    to the field's DataRequired or Optional."""

    MESSAGES = {
        "format": _l("Write the amount as a plain number, for example 1 234,50."),
        "negative": _l("The amount cannot be negative."),
        "range": _l("The amount can be at most %(max)s."),
    }

    def __init__(self, label=None, validators=None, maximum_ore: int = money.MAX_AMOUNT_ORE,
                 messages: dict | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.maximum_ore = maximum_ore
        self.messages = {**self.MESSAGES, **(messages or {})}
        self.ore: int | None = None

    def pre_validate(self, form):
        self.ore = None
        if not (self.data or "").strip():
            return
        try:
            self.ore = money.parse_kronor(self.data, self.maximum_ore)
        except money.NumberError as error:
            raise StopValidation(self.messages[error.reason] % {"max": i18n.money(self.maximum_ore)}) from None
