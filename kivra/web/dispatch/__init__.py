"""Sending a payroll run's payslips: the send step's buttons and its progress."""
from flask import Blueprint

bp = Blueprint("dispatch", __name__)
