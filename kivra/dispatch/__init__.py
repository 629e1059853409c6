"""Sending a run's payslips: to Kivra, or to Min lön for everyone Kivra cannot reach."""
