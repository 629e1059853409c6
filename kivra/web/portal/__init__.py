"""Min lön: the employees' own pages."""
from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/min-lon")
