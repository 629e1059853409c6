"""Every page, in one place: each feature's blueprint and the modules that put their views on it."""
# Importing a views module puts its views on its feature's blueprint; nothing else imports them.
from kivra.web import accounts, company, dispatch, employees, legacy, payroll, portal, signup, solutions, users
from kivra.web.accounts import routes as _accounts
from kivra.web.company import routes as _company
from kivra.web.dispatch import routes as _dispatch
from kivra.web.employees import routes as _employees
from kivra.web.legacy import routes as _legacy
from kivra.web.payroll import payslips as _payslips, runs as _runs
from kivra.web.portal import routes as _portal
from kivra.web.signup import routes as _signup
from kivra.web.solutions import routes as _solutions, status as _status
from kivra.web.users import routes as _users

VIEWS = (_accounts, _company, _dispatch, _employees, _legacy, _payslips, _runs, _portal, _signup, _solutions, _status,
         _users)
BLUEPRINTS = (accounts.bp, company.bp, employees.bp, payroll.bp, dispatch.bp, solutions.bp, legacy.bp, portal.bp,
              signup.bp, users.bp)


def register(app) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
