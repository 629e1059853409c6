from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectChoice, SelectField
from wtforms.validators import DataRequired

from kivra.web.forms import Form
from kivra.web.i18n import LOCALE_NAMES


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(message=_l("Enter your e-mail address."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter your password."))])
    next = HiddenField()


class LanguageForm(Form):
    locale = SelectField(_l("Language"), choices=[SelectChoice(code, name) for code, name in LOCALE_NAMES.items()])
    next = HiddenField()
