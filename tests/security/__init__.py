"""Security: each point of the hardening pass (issue 17), one module per concern."""
