from flask_babel import lazy_gettext as _l
from wtforms import EmailField, StringField, ValidationError
from wtforms.validators import DataRequired, Email, Length

from kivra import identity
from kivra.accounts import password_strength
from kivra.web.forms import ChoosePasswordForm

ORGNR_MESSAGES = {
    "format": _l("Write the organisation number as 10 digits, NNNNNN-NNNN, e.g. 556840-2266."),
    "checksum": _l("The organisation number's last digit does not match (check digit error). Check for a typo."),
    "group": _l("The organisation number's third digit is 0 or 1, which only a sole trader's personnummer has, and "
                "this is not a valid personnummer. Check for a typo."),
}


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


class SignUpForm(ChoosePasswordForm):
    """The company, its first admin and the admin's password (the rules of choosing one elsewhere)."""

    printed = frozenset({"company_name"})  # on the payslip PDF

    company_name = StringField(_l("Company name"), filters=[_stripped], validators=[
        DataRequired(message=_l("Enter the company's name.")),
        Length(max=200, message=_l("The name can be at most %(max)d characters long.")),
    ])
    orgnr = StringField(_l("Organisation number"), filters=[_stripped], validators=[
        DataRequired(message=_l("Enter the organisation number.")),
    ])
    name = StringField(_l("Your name"), filters=[_stripped], validators=[
        DataRequired(message=_l("Enter your name.")),
        Length(max=200, message=_l("The name can be at most %(max)d characters long.")),
    ])
    email = EmailField(_l("Your e-mail address"), filters=[_stripped], validators=[
        DataRequired(message=_l("Enter your e-mail address.")),
        Length(max=254, message=_l("The e-mail address can be at most %(max)d characters long.")),
        Email(message=_l("Enter a valid e-mail address."), check_deliverability=False),
    ])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.password.label.text = _l("Choose a password")

    def words_about_the_person(self) -> list[str]:
        return password_strength.words_about(self.name.data, self.email.data, self.company_name.data,
                                             orgnr=self.orgnr.data)

    def validate_orgnr(self, field):
        try:
            self.parsed_orgnr = identity.parse_orgnr(field.data)
        except identity.OrgnrError as error:
            raise ValidationError(ORGNR_MESSAGES[error.reason]) from None
