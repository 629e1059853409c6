"""The rules every text field of the site keeps, bound to each field by `kivra.web.forms.Form`."""
from flask_babel import gettext as _
from wtforms import Field, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import StopValidation

from kivra.payroll.printable import code_point, control_character, unprintable_character


def applies_to(field: Field) -> bool:
    """A text a person types. Not a password (any character may be in one) nor a hidden field (what it carries, such
    as `next`, is checked where it is used: `safe_next`)."""
    return isinstance(field, StringField) and not isinstance(field, (PasswordField, HiddenField))


class TextRule:
    """No control character (a multi-line field allows line breaks); on a payslip, only what its font prints.

    A broken rule stops the field's other validators: `Optional` would otherwise pass a field of only a tab."""

    def __init__(self, multiline: bool = False, printed: bool = False):
        self.multiline = multiline
        self.printed = printed

    def __call__(self, form, field) -> None:
        text = field.data if isinstance(field.data, str) else ""
        char = control_character(text, self.multiline)
        if char is not None:
            raise StopValidation(
                _("This field cannot hold a line break, a tab or another control character (%(code)s).",
                  code=code_point(char))
            )
        char = unprintable_character(text) if self.printed else None
        if char is not None:
            raise StopValidation(
                _("The character “%(char)s” (%(code)s) cannot be printed on the payslip.", char=char,
                  code=code_point(char))
            )


def unprintable_message(char: str) -> str:
    """For a payslip frozen from texts typed before the forms refused them."""
    return _("The character “%(char)s” (%(code)s) cannot be printed on the payslip. Correct the employee, the "
             "company's name, address and contact or the payslip's lines first.", char=char, code=code_point(char))


def text_rule(field: Field, printed: bool) -> TextRule:
    return TextRule(multiline=isinstance(field, TextAreaField), printed=printed)
