"""Checking a content the way Kivra documents it, each refusal with Kivra's error code."""
import base64
import binascii
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from jsonschema import Draft6Validator, FormatChecker

from kivra.contract import html_part, salaryslip_schema
from kivra.sandbox.errors import KivraApiError

RECIPIENT_FIELDS = ("ssn", "vat_number", "email")
# The values Kivra lists for `type` in Content_user_v2 (ssn, email) and Content_company (vat_number).
USER_TYPES = frozenset({
    "letter", "letter.salary", "salaryslip", "letter.creditnotice", "letter.form", "letter.signed",
    "invite.research", "invite.gift", "invite.sign", "invite.voucher", "invite.kyc", "invoice", "invoice.reminder",
    "invoice.debtcampaign", "invoice.renewal", "invoice.debtcollection", "booking", "registered.letter",
    "invoice.donation", "invoice.paymentnotice", "ticket.event",
})
COMPANY_TYPES = frozenset({
    "accounting.invoice", "accounting.invoicereminder", "accounting.invoicecreditnote", "letter", "invoice",
    "letter.salary", "letter.creditnotice", "invite.research", "invite.kyc",
})
RETAINABLE = frozenset({"salaryslip", "letter.salary", "letter.creditnotice", "letter.signed", "invite.sign"})
RETENTION_DAYS = {"30": 30, "390": 390}
VAT_NUMBER = re.compile(r"^SE[0-9]{10}01$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Content:
    recipient_type: str  # ssn | vat_number | email
    recipient: str
    subject: str
    type: str
    retain: bool
    retention_days: int
    pdf: bytes | None  # the first PDF part, for the inbox view
    html: bytes | None  # its responsive part


def ssn_problem(ssn: str) -> str | None:
    """Why Kivra refuses this SSN, or None: 12 digits, a real date, the check digit, no samordningsnummer.
    Checked here the way Kivra checks it, with no code of the app's: the sandbox must catch the app's mistakes."""
    if not isinstance(ssn, str) or not re.fullmatch(r"[0-9]{12}", ssn):
        return "The SSN must be 12 digits, YYYYMMDDNNNN"
    year, month, day = int(ssn[:4]), int(ssn[4:6]), int(ssn[6:8])
    try:
        born = date(year, month, day - 60 if day > 60 else day)
    except ValueError:
        return "The SSN does not hold a valid date of birth"
    if born > date.today():
        return "The SSN does not hold a valid date of birth"
    doubled = (int(digit) * (2 - index % 2) for index, digit in enumerate(ssn[2:]))
    if sum(value - 9 if value > 9 else value for value in doubled) % 10:
        return "The SSN's check digit is wrong"
    if day > 60:
        return "Samordningsnummer (coordination numbers) are not accepted"
    return None


def validate_content(body: dict, max_subject_length: int | None) -> Content:
    recipient_type, recipient = _recipient(body)
    subject = body.get("subject")
    if not isinstance(subject, str) or not subject.strip():
        raise KivraApiError(40001, "`subject` is required")
    if max_subject_length is not None and len(subject) > max_subject_length:
        raise KivraApiError(40001, f"`subject` is longer than {max_subject_length} characters")
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        raise KivraApiError(40001, "`type` is required")
    if kind not in (COMPANY_TYPES if recipient_type == "vat_number" else USER_TYPES):
        raise KivraApiError(40012, f"`{kind}` is not a content type for a {recipient_type} recipient")
    _check_generated_at(body.get("generated_at"))
    pdf, html = _parts(body.get("parts"))
    _check_salaryslip(body, kind)
    retain, retention_days = _retention(body, kind)
    return Content(recipient_type, recipient, subject, kind, retain, retention_days, pdf, html)


def _recipient(body: dict) -> tuple[str, str]:
    present = [name for name in RECIPIENT_FIELDS if body.get(name) is not None]
    if not present:
        raise KivraApiError(40024, "One of `ssn`, `vat_number` or `email` is required")
    if len(present) > 1:
        raise KivraApiError(40001, "Give exactly one recipient: `ssn`, `vat_number` or `email`")
    kind, value = present[0], body[present[0]]
    if kind == "ssn" and (problem := ssn_problem(value)):
        raise KivraApiError(40009, problem)
    if kind == "vat_number" and not (isinstance(value, str) and VAT_NUMBER.match(value)):
        raise KivraApiError(40001, "`vat_number` must be SE, 10 digits, 01")
    if kind == "email" and not (isinstance(value, str) and EMAIL.match(value)):
        raise KivraApiError(40007)
    return kind, value


def _check_generated_at(value) -> None:
    if value is None:
        return
    for parse_iso in (date.fromisoformat, datetime.fromisoformat):
        try:
            parse_iso(value)
            return
        except (TypeError, ValueError):
            pass
    raise KivraApiError(40001, "`generated_at` must be an ISO 8601 date, or date and time")


def _decode(data, where: str) -> bytes:
    if not isinstance(data, str) or not data:
        raise KivraApiError(40019, f"{where}.data must be base64-encoded data")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        pass
    try:  # line-wrapped base64 (MIME style) is base64 too; stripping is only worth it when the plain decode failed
        return base64.b64decode(_WHITESPACE.sub("", data), validate=True)
    except (binascii.Error, ValueError):
        raise KivraApiError(40019, f"{where}.data is not valid base64") from None


def _file(part, where: str, content_type: str) -> bytes:
    named = isinstance(part, dict) and all(isinstance(part.get(k), str) and part[k] for k in ("name", "content_type"))
    if not named:
        raise KivraApiError(40019, f"{where} needs `name`, `data` and `content_type`")
    data = _decode(part.get("data"), where)
    if part["content_type"].lower() != content_type:
        raise KivraApiError(40028, f"{where}.content_type must be {content_type}")
    return data


def _parts(parts) -> tuple[bytes | None, bytes | None]:
    if parts is None:
        return None, None
    if not isinstance(parts, list):
        raise KivraApiError(40001, "`parts` must be a list")
    files = []
    for index, part in enumerate(parts):
        pdf = _file(part, f"parts[{index}]", "application/pdf")
        if not pdf.startswith(b"%PDF-"):
            raise KivraApiError(40019, f"parts[{index}] is not a PDF")
        html = None
        if part.get("responsive_part") is not None:
            html = _file(part["responsive_part"], f"parts[{index}].responsive_part", "text/html")
            found = html_part.finding(html.decode("utf-8", errors="replace"))
            if found == "script":
                raise KivraApiError(40019, f"parts[{index}].responsive_part contains JavaScript, which Kivra forbids")
            if found == "outside":
                raise KivraApiError(40019, f"parts[{index}].responsive_part loads an external resource; embed it")
        files.append((pdf, html))
    return files[0] if files else (None, None)


@cache
def _salaryslip_validator() -> Draft6Validator:
    return Draft6Validator(salaryslip_schema(), format_checker=FormatChecker())


def _check_salaryslip(body: dict, kind: str) -> None:
    slip = body.get("salaryslip")
    if kind != "salaryslip":
        if slip is not None:
            raise KivraApiError(40059, "A `salaryslip` object is only allowed on type salaryslip")
        return
    if not isinstance(slip, dict):
        raise KivraApiError(40059, "Type salaryslip needs a `salaryslip` object")
    errors = sorted(_salaryslip_validator().iter_errors(slip), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in errors[0].absolute_path)
        raise KivraApiError(40059, f"salaryslip{path}: {errors[0].message}")


def _retention(body: dict, kind: str) -> tuple[bool, int]:
    retain = body.get("retain", False)
    if not isinstance(retain, bool):
        raise KivraApiError(40001, "`retain` must be true or false")
    if retain and kind not in RETAINABLE:
        raise KivraApiError(42221, f"Content of type {kind} cannot be retained")
    retention_time = body.get("retention_time")
    if retention_time is not None and not (isinstance(retention_time, str) and retention_time in RETENTION_DAYS):
        raise KivraApiError(40001, '`retention_time` must be "30" or "390"')
    return retain, RETENTION_DAYS[retention_time or "30"]
