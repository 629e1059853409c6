"""Payroll runs and their payslips: the pages."""
from flask import Blueprint

bp = Blueprint("payroll", __name__)
