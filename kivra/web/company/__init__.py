"""Företagsinställningar: the company's own details, for its admins."""
from flask import Blueprint

bp = Blueprint("company", __name__, url_prefix="/company")
