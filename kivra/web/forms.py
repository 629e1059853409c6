"""The base of every form, and forms both sides of the site use: choosing a password (from an invitation or a reset
link), and asking for a reset link."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, ValidationError
from wtforms.validators import DataRequired, Email, EqualTo, Length, StopValidation

from kivra import money
from kivra.accounts import password_strength
from kivra.web import i18n

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

    def __init__(self, *args, words_about_the_person: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.words = words_about_the_person or []

    def words_about_the_person(self) -> list[str]:
        """The person's name, e-mail address, personnummer, company: what a guessable password is made of."""
        return self.words

    def validate_password(self, field):
        refuse_guessable(self, field)


class ForgotPasswordForm(Form):
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


TOO_EASY = _l("The password is too easy to guess. Choose a few words nobody links to you, or a longer password – not "
              "your name, e-mail address, personnummer or telephone number.")


def refuse_guessable(form: ChoosePasswordForm, field) -> None:
    """A password that meets the length rules but that zxcvbn scores as guessable is refused."""
    if not field.errors and field.data and password_strength.too_easy(field.data, form.words_about_the_person()):
        raise ValidationError(TOO_EASY)


def words_about(principal) -> list[str]:
    """The words about a company user or a Min lön account (its employee) that a password must not be made of."""
    employee = getattr(principal, "employee", None)
    if employee is not None:
        return password_strength.words_about(employee.name, employee.email, principal.company.name,
                                             employee.personnummer)
    return password_strength.words_about(principal.name, principal.email, principal.company.name)
