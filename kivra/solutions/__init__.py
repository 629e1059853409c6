"""Fler lösningar: the solutions a company can add, Kivra among them."""
