"""The More Solutions page."""
from flask import Blueprint

from kivra.web import render

bp = Blueprint("solutions", __name__, url_prefix="/solutions")


@bp.get("")
def index():
    return render("solutions/index.html")
