"""A real SMTP server for development and tests (aiosmtpd, on loopback), with a small web mailbox where what arrived
can be read and its links followed. Nothing it receives leaves the machine. Like the Kivra sandbox it imports nothing
of the app: `flask serve` starts one beside the sandbox, and the tests start their own on free ports."""
from kivra.mailbox.server import Mailbox, ReceivedMessage, start_in_thread

__all__ = ["Mailbox", "ReceivedMessage", "start_in_thread"]
