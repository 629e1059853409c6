"""Payroll runs (Lönekörningar), payslips and the accounting voucher."""
