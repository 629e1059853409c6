import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, EmailField, StringField, ValidationError
from wtforms.validators import DataRequired, Email, Length, Optional

from kivra import identity, money
from kivra.web.forms import Form, KronorField

PNR_MESSAGES = {
    "format": _l("Write the personnummer as YYYYMMDD-NNNN, YYYYMMDDNNNN or YYMMDD-NNNN."),
    "space": _l("Write YYMMDD-NNNN, or YYMMDD+NNNN for someone 100 or older: with six digits for the date, a space does not say which century."),
    "date": _l("The personnummer does not start with a valid date of birth."),
    "born": _l("The personnummer's date of birth must be between 1 January 1870 and today."),
    "serial": _l("The personnummer's birth number (the three digits after the date) cannot be 000."),
    "checksum": _l("The personnummer's last digit does not match (check digit error). Check for a typo."),
}


class EmployeeForm(Form):
    printed = frozenset({"name", "bank_account"})  # on the payslip PDF
    name = StringField(
        _l("Name"),
        validators=[DataRequired(message=_l("Enter the employee's name.")), Length(max=200)],
    )
    personnummer = StringField(
        _l("Personnummer"), validators=[DataRequired(message=_l("Enter the personnummer."))]
    )
    email = EmailField(
        _l("E-mail"),
        validators=[Optional(), Email(message=_l("Enter a valid e-mail address."), check_deliverability=False)],
    )
    employment_start = DateField(
        _l("Employment start date"),
        validators=[DataRequired(message=_l("Enter the employment start date as YYYY-MM-DD."))],
    )
    employment_end = DateField(_l("Employment end date (optional)"), validators=[Optional()])
    monthly_salary = KronorField(
        _l("Monthly salary (kr)"), validators=[DataRequired(message=_l("Enter the monthly salary."))],
        messages={"negative": _l("The salary cannot be negative.")},
    )
    tax_rate = StringField(
        _l("Preliminary tax rate (%)"), validators=[DataRequired(message=_l("Enter the preliminary tax rate."))]
    )
    bank_account = StringField(_l("Bank account (optional)"), validators=[Optional(), Length(max=40)])
    min_lon_only = BooleanField(_l("Send payslips with Min lön only, never Kivra"))

    def validate_personnummer(self, field):
        try:
            self.parsed_personnummer = identity.parse_personnummer(field.data)
        except identity.PersonnummerError as error:
            raise ValidationError(PNR_MESSAGES[error.reason]) from None

    def validate_employment_end(self, field):
        if field.data and self.employment_start.data and field.data < self.employment_start.data:
            raise ValidationError(_l("The employment cannot end before it starts."))

    def validate_tax_rate(self, field):
        try:
            self.parsed_tax_rate = money.parse_percent(field.data)
        except money.NumberError:
            raise ValidationError(_l("Write the tax rate as a per cent between 0 and 100, e.g. 30 or 32,5.")) from None

    def validate_bank_account(self, field):
        digits = re.sub(r"[\s-]", "", field.data or "")
        if digits and (not digits.isdigit() or not 8 <= len(digits) <= 20):
            raise ValidationError(_l("Write the clearing and account number with digits only, e.g. 8327-9 123 456 789-0."))
