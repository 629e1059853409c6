from flask_babel import lazy_gettext as _l
from wtforms import DateField, MonthField, SelectChoice, SelectField, StringField, ValidationError
from wtforms.validators import DataRequired, Length

from kivra.web.forms import Form, KronorField

NOT_POSITIVE = _l("The amount must be more than zero; choose Deduction to subtract.")


class RunForm(Form):
    period = MonthField(_l("Month"), validators=[DataRequired(message=_l("Choose the month as YYYY-MM."))])
    payout_date = DateField(
        _l("Payout date"), validators=[DataRequired(message=_l("Enter the payout date as YYYY-MM-DD."))]
    )

    def validate_payout_date(self, field):
        if self.period.data and field.data:
            months = (field.data.year - self.period.data.year) * 12 + field.data.month - self.period.data.month
            if months not in (0, 1):
                raise ValidationError(_l("The payout date must be in the month paid for or the month after."))


class LineForm(Form):
    printed = frozenset({"description"})  # on the payslip PDF
    kind = SelectField(
        _l("Type"),
        choices=[SelectChoice("addition", _l("Addition")), SelectChoice("deduction", _l("Deduction"))],
        validators=[DataRequired()],
    )
    description = StringField(
        _l("Description"),
        validators=[DataRequired(message=_l("Describe the line, e.g. Overtime.")), Length(max=100)],
    )
    amount = KronorField(_l("Amount (kr)"), validators=[DataRequired(message=_l("Enter the amount."))],
                         messages={"negative": NOT_POSITIVE})

    def validate_amount(self, field):
        if field.ore == 0:
            raise ValidationError(NOT_POSITIVE)
