"""Min lön: the employees' own portal, for reading the payslips their employer sent them."""
