"""Sign in, sign out and choose a language: the company users' pages."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)
