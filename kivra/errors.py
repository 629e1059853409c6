"""Error pages in the user's language."""
from flask_wtf.csrf import CSRFError

from kivra.web import render


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render("errors/error.html", "error", status=400, kind="csrf")

    for code in (403, 404, 405, 409):
        app.register_error_handler(code, lambda error, code=code: render("errors/error.html", "error", status=code, kind=code))
