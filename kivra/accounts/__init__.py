"""Companies, users, login and language."""
