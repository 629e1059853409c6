"""The web payroll's (VLA) Kivra pages, which point here once a company has moved."""
