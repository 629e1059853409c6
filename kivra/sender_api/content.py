"""A content for Kivra, checked against Kivra's rules before it leaves and serialised once, byte for byte."""
import base64
import json
import re
import uuid
from datetime import date
from functools import cache, partial

import fastjsonschema
from babel.dates import get_month_names
from jsonschema import Draft6Validator, FormatChecker

from kivra.contract import html_part, salaryslip_schema

SUBJECT_MAX = 35
RETENTION_DAYS = (30, 390)
_SSN = re.compile(r"^[0-9]{12}$")
_DIGIT_RUN = re.compile(r"[0-9]{6,}")
_WORDS = re.compile(r"[^\W\d_]+")
# Words our own subjects are made of; a name that happens to be one of them (Maj in May) is not a leak.
TEMPLATE_WORDS = frozenset(
    {"lönebesked", "rättat", "payslip", "corrected"}
    | {m.lower() for m in get_month_names("wide", locale="sv").values()}
)


class PayloadError(ValueError):
    """We refuse to send this: it breaks one of Kivra's rules (or ours about personal data)."""


@cache  # built once: validating is read-only, so every thread shares it
def _validator() -> Draft6Validator:
    return Draft6Validator(salaryslip_schema(), format_checker=FormatChecker())


@cache
def _compiled():
    """The schema compiled to Python once (fastjsonschema): ~10x faster than walking it for every payslip. Its formats
    are jsonschema's own checks, and a format jsonschema does not know passes as it does there, so the two accept
    the same documents (tests/unit/test_salaryslip_schema.py)."""
    checker = FormatChecker()
    formats = {name: partial(_conforms, checker, name) for name in _formats(salaryslip_schema())}
    return fastjsonschema.compile(salaryslip_schema(), formats=formats)


def _conforms(checker: FormatChecker, name: str, value) -> bool:
    return checker.conforms(value, name)


def _formats(schema) -> set[str]:
    if isinstance(schema, dict):
        found = {schema["format"]} if isinstance(schema.get("format"), str) else set()
        return found.union(*(_formats(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_formats(value) for value in schema))
    return set()


def warm_up() -> None:
    """Compile the schema before the first payslip (80 ms of CPU, or several times that while other threads run)."""
    _compiled()


def check_salaryslip(salaryslip: dict) -> None:
    """PayloadError naming the first place (by path) where the salaryslip breaks Kivra's schema. The compiled
    validator accepts; only a refusal is walked again by jsonschema, for its message."""
    try:
        _compiled()(salaryslip)
        return
    except fastjsonschema.JsonSchemaValueException:
        pass
    error = next(iter(sorted(_validator().iter_errors(salaryslip), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "salaryslip"
        raise PayloadError(f"salaryslip does not follow Kivra's schema at {where}: {error.message}")


def check_subject(subject: str, personal: tuple[str, ...] = ()) -> None:
    """At most 35 characters, and nothing that identifies the person: no personnummer, no name."""
    if not subject or not subject.strip():
        raise PayloadError("subject is empty")
    if len(subject) > SUBJECT_MAX:
        raise PayloadError(f"subject is longer than {SUBJECT_MAX} characters")
    if _DIGIT_RUN.search(subject.replace("-", "")):
        raise PayloadError("subject contains a long number; it may be a personnummer")
    words = set(_WORDS.findall(subject.lower())) - TEMPLATE_WORDS
    if any(part in words for text in personal for part in _WORDS.findall(text.lower())):
        raise PayloadError("subject contains the recipient's name")


def check_html(html: str) -> None:
    """Kivra's rules for the responsive part, on the markup as parsed: no JavaScript, everything inline, no
    tracking links. A name in the text that reads like an attribute (`Acme onerror=x AB`) is text."""
    found = html_part.finding(html)
    if found == "script":
        raise PayloadError("the HTML part contains script")
    if found == "outside":
        raise PayloadError("the HTML part loads something from outside; embed it inline")
    if found == "tracking":
        raise PayloadError("the HTML part contains a tracking link")


def salaryslip_content(
    *,
    ssn: str,
    subject: str,
    generated_at: date,
    pdf: bytes,
    salaryslip: dict,
    html: str | None = None,
    retain: bool = False,
    retention_days: int = 30,
    personal: tuple[str, ...] = (),
    file_name: str = "lonebesked.pdf",
) -> bytes:
    """The JSON body of a `salaryslip` content. Same arguments, same bytes: store them and resend them as they are."""
    if not _SSN.match(ssn):
        raise PayloadError("ssn must be 12 digits")
    check_subject(subject, personal)
    check_salaryslip(salaryslip)
    if not pdf.startswith(b"%PDF-"):
        raise PayloadError("the PDF part is not a PDF")
    if retention_days not in RETENTION_DAYS:
        raise PayloadError("retention is 30 or 390 days")
    parts_base64 = {"pdf": base64.b64encode(pdf)}
    marker = uuid.uuid4().hex  # stands in for the base64 while the rest is written (see _with_base64)
    part = {"name": file_name, "data": marker + "pdf", "content_type": "application/pdf"}
    if html is not None:
        check_html(html)
        parts_base64["html"] = base64.b64encode(html.encode("utf-8"))
        part["responsive_part"] = {
            "name": file_name.rsplit(".", 1)[0] + ".html",
            "data": marker + "html",
            "content_type": "text/html",
        }
    payload = {
        "ssn": ssn,
        "subject": subject,
        "type": "salaryslip",
        "generated_at": generated_at.isoformat(),
        "parts": [part],
        "salaryslip": salaryslip,
    }
    if retain:
        payload["retain"] = True
        payload["retention_time"] = str(retention_days)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return _with_base64(body, marker, parts_base64)


def _with_base64(body: bytes, marker: str, parts_base64: dict[str, bytes]) -> bytes:
    """`body` with each `"<marker><name>"` string replaced by that part's base64, quoted: the bytes json.dumps makes
    of the whole, as base64 ([A-Za-z0-9+/=]) is its own JSON. The parts are nine tenths of a content (46 kB), and
    json.dumps scanned every character of them for escapes: dumping a whole content took 0.22 ms, and the content
    stage went from 0.73 to 0.59 ms a payslip without it (docs/benchmarks.md). The marker is random, so no text of
    the payslip can hold it; if one ever did, the content is refused rather than sent with the wrong bytes."""
    for name, encoded in parts_base64.items():
        quoted = f'"{marker}{name}"'.encode("ascii")
        if body.count(quoted) != 1:  # cannot happen: a marker is made for each content and named once in it
            raise AssertionError("a content's part marker was not found once")
        body = body.replace(quoted, b'"' + encoded + b'"')
    return body
