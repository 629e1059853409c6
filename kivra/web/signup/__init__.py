"""Sign-up (/registrera): a new company and its first admin, and confirming the admin's e-mail address."""
from flask import Blueprint

bp = Blueprint("signup", __name__, url_prefix="/registrera")
