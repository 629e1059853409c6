"""The web payroll's (VLA) Kivra addresses: once its agreement is taken over here, they point to the new pages."""
from flask import Blueprint

bp = Blueprint("legacy", __name__, url_prefix="/vla/kivra")
