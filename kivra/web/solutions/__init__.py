"""Fler lösningar: the Kivra agreement's pages and the status pages."""
from flask import Blueprint

bp = Blueprint("solutions", __name__, url_prefix="/solutions")
