"""E-mail that leaves: the outbox every message is written to in the transaction of what it tells, the worker that
sends it through SMTP once (kivra/mail/delivery.py), and the signed one-time links the messages carry."""
