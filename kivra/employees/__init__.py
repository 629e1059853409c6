"""The employee register (Anställda)."""
