"""What a resend of failed payslips says, from a run's step page and from the month's status page alike."""
from flask import flash
from flask_babel import gettext as _, ngettext


def flash_resent(count: int, past: int) -> None:
    """`count` failed payslips went again; `past` could not, their stored bytes having been dropped."""
    if count:
        flash(ngettext("%(num)d failed payslip is being sent again.", "%(num)d failed payslips are being sent again.",
                       count), "success")
    if past:
        flash(ngettext("%(num)d failed payslip can no longer be sent again: what was sent is not kept that long. "
                       "The employee reads it in Min lön.",
                       "%(num)d failed payslips can no longer be sent again: what was sent is not kept that long. "
                       "The employees read them in Min lön.", past), "info")
    elif not count:
        flash(_("No payslips have failed; nothing was sent again."), "info")
