import re

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, StringField, ValidationError
from wtforms.validators import DataRequired, Email, Length, Optional

from kivra import identity
from kivra.accounts import bank, settings
from kivra.web.forms import Form

ORGNR_MESSAGES = {
    "format": _l("Write the organisation number as NNNNNN-NNNN, e.g. 556840-2266."),
    "checksum": _l("The organisation number's last digit does not match (check digit error). Check for a typo."),
    "group": _l("This is not an organisation number: its third digit must be at least 2, and it is not a sole "
                "trader's personnummer either."),
}
BANKGIRO_MESSAGES = {
    "format": _l("A bankgiro number has 7 or 8 digits, e.g. 123-4566 or 5050-1055."),
    "length": _l("A bankgiro number has 7 or 8 digits, e.g. 123-4566 or 5050-1055."),
    "checksum": _l("The bankgiro number's last digit does not match (check digit error). Check for a typo."),
}
CLEARING_MESSAGES = {
    "format": _l("A clearing number has 4 digits, e.g. 6789; Swedbank's that start with 8 have 5, e.g. 8327-9."),
    "length": _l("A clearing number has 4 digits, e.g. 6789; Swedbank's that start with 8 have 5, e.g. 8327-9."),
    "checksum": _l("The clearing number's fifth digit does not match (check digit error): Swedbank prints it after "
                   "the hyphen, e.g. 8327-9."),
}
ACCOUNT_MESSAGE = _l("Write the account number with 7 to 10 digits, without the clearing number.")
PHONE = re.compile(r"^\+?[0-9 ()-]+$", re.ASCII)


def _optional(text: str | None) -> str | None:
    return (text or "").strip() or None


class CompanySettingsForm(Form):
    printed = frozenset({"name", "street_address", "postal_code", "city", "email", "phone"})  # on the payslip PDF
    name = StringField(_l("Company name"), validators=[
        DataRequired(message=_l("Enter the company's name.")), Length(max=200)])
    orgnr = StringField(_l("Organisation number"))
    street_address = StringField(_l("Street address"), validators=[Optional(), Length(max=200)])
    postal_code = StringField(_l("Postal code"))
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[
        Optional(), Email(message=_l("Enter a valid e-mail address."), check_deliverability=False), Length(max=254)])
    phone = StringField(_l("Telephone"))
    bankgiro = StringField(_l("Bankgiro"))
    clearing_number = StringField(_l("Clearing number"))
    account_number = StringField(_l("Account number"))
    employer_contribution_rate = StringField(_l("Employer contribution rate (%)"), validators=[
        DataRequired(message=_l("Enter the employer contribution rate."))])
    payout_day = StringField(_l("Payout day"), validators=[DataRequired(message=_l("Choose a day between 1 and 28."))])

    def __init__(self, *args, orgnr_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.orgnr_locked = orgnr_locked
        self.parsed = {}

    def validate_orgnr(self, field):
        if self.orgnr_locked:
            return
        if not (field.data or "").strip():
            raise ValidationError(_l("Enter the organisation number."))
        try:
            self.parsed["orgnr"] = identity.parse_orgnr(field.data).digits
        except identity.OrgnrError as error:
            raise ValidationError(ORGNR_MESSAGES[error.reason]) from None

    def validate_postal_code(self, field):
        if _optional(field.data):
            try:
                self.parsed["postal_code"] = settings.parse_postal_code(field.data)
            except ValueError:
                raise ValidationError(_l("Write the postal code as five digits, e.g. 123 45.")) from None

    def validate_phone(self, field):
        phone = _optional(field.data)
        if phone and (not PHONE.match(phone) or not 6 <= len(re.sub(r"\D", "", phone)) <= 15 or len(phone) > 30):
            raise ValidationError(_l("Write the telephone number with digits, e.g. 08-123 456 78 or +46 8 123 456 78."))

    def validate_bankgiro(self, field):
        if not _optional(field.data):
            return
        if _optional(self.clearing_number.data) or _optional(self.account_number.data):
            raise ValidationError(_l("Give either a bankgiro number or a clearing and account number, not both."))
        try:
            self.parsed["bankgiro"] = bank.parse_bankgiro(field.data)
        except bank.BankAccountError as error:
            raise ValidationError(BANKGIRO_MESSAGES[error.reason]) from None

    def validate_clearing_number(self, field):
        if not _optional(field.data):
            if _optional(self.account_number.data):
                raise ValidationError(_l("Enter the clearing number too: it comes before the account number."))
            return
        try:
            self.parsed["clearing_number"] = bank.parse_clearing(field.data)
        except bank.BankAccountError as error:
            raise ValidationError(CLEARING_MESSAGES[error.reason]) from None

    def validate_account_number(self, field):
        if not _optional(field.data):
            if _optional(self.clearing_number.data):
                raise ValidationError(_l("Enter the account number too."))
            return
        try:
            self.parsed["account_number"] = bank.parse_account_number(field.data)
        except bank.BankAccountError:
            raise ValidationError(ACCOUNT_MESSAGE) from None

    def validate_employer_contribution_rate(self, field):
        try:
            self.parsed["rate"] = settings.parse_rate(field.data)
        except ValueError:
            raise ValidationError(_l("Write the rate as a per cent between 0 and 100 with at most two decimals, "
                                     "e.g. 31,42.")) from None

    def validate_payout_day(self, field):
        day = (field.data or "").strip()
        if not day.isascii() or not day.isdigit() or int(day) not in settings.PAYOUT_DAYS:
            raise ValidationError(_l("Choose a day between 1 and 28."))
        self.parsed["payout_day"] = int(day)

    def parsed_settings(self) -> settings.CompanySettings:
        """What was typed, parsed (after `validate`)."""
        bank_account = "bankgiro" in self.parsed
        return settings.CompanySettings(
            name=self.name.data.strip(),
            orgnr=None if self.orgnr_locked else self.parsed["orgnr"],
            street_address=_optional(self.street_address.data),
            postal_code=self.parsed.get("postal_code"),
            city=_optional(self.city.data),
            email=_optional(self.email.data),
            phone=_optional(self.phone.data),
            bankgiro=self.parsed.get("bankgiro"),
            clearing_number=None if bank_account else self.parsed.get("clearing_number"),
            account_number=None if bank_account else self.parsed.get("account_number"),
            employer_contribution_rate=self.parsed["rate"],
            payout_day=self.parsed["payout_day"],
        )

    def fill_from(self, company) -> None:
        """The saved settings as a person writes them."""
        self.orgnr.data = company.orgnr_formatted
        self.bankgiro.data = company.bankgiro and bank.format_bankgiro(company.bankgiro)
        self.clearing_number.data = company.clearing_number and bank.format_clearing(company.clearing_number)
        self.employer_contribution_rate.data = str(company.employer_contribution_rate).replace(".", ",")
        self.payout_day.data = str(company.payout_day)
