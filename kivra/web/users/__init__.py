"""Användare: the company's users and roles (admins only)."""
from flask import Blueprint

bp = Blueprint("users", __name__, url_prefix="/users")
