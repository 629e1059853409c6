"""Request bodies for the sandbox tests, built by hand from Kivra's schemas."""
import base64
import copy

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HTML = "<h1>Lönebesked</h1><p>Nettolön 27 690 kr</p>"
USER = "191212121212"  # one of Kivra's test numbers, a user in the default registry


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode("ascii")


def salaryslip() -> dict:
    """A salaryslip object with every required member of schema-salary-slip.json, and a few optional ones."""
    sek = lambda amount: {"monetary_amount": amount, "currency": "SEK"}  # noqa: E731
    return {
        "document_metadata": {"creation_timestamp": "2026-01-31T10:00:00Z", "source_system": "Demo Lön"},
        "employment": {
            "start_date": "2020-01-01",
            "employer": {
                "legal_name": "Demo AB",
                "legal_identifiers": {"vat_number": "SE556840226601", "org_number": "556840-2266"},
                "contact_information": {
                    "address": {"street_address": "Storgatan 1", "postal_code": "111 22", "city": "Stockholm",
                                "country": "Sweden"},
                    "email_address": "lon@demo.se",
                    "telephone_number": "+46 8-123 456",
                },
            },
        },
        "pay_period": {
            "start_date": "2026-01-01",
            "end_date": "2026-01-31",
            "payout_date": "2026-01-25",
            "gross_pay": sek("35000.00"),
            "tax_deducted": sek("10500.00"),
            "net_pay": sek("24500.00"),
        },
        "tax_information": {"tax_code": {"identifier": "30", "schema": "Swedish Tax Code"}},
    }


def salaryslip_content(ssn: str = USER, **changes) -> dict:
    """A valid `salaryslip` content; `changes` replace top-level members (None removes one)."""
    content = {
        "ssn": ssn,
        "subject": "Lönebesked januari 2026",
        "type": "salaryslip",
        "generated_at": "2026-01-31",
        "parts": [{
            "name": "lonebesked.pdf",
            "data": b64(PDF),
            "content_type": "application/pdf",
            "responsive_part": {"name": "lonebesked.html", "data": b64(HTML), "content_type": "text/html"},
        }],
        "salaryslip": salaryslip(),
    }
    for name, value in changes.items():
        if value is None:
            content.pop(name, None)
        else:
            content[name] = value
    return copy.deepcopy(content)


def letter_content(**changes) -> dict:
    content = {"ssn": USER, "subject": "Information", "type": "letter",
               "parts": [{"name": "brev.pdf", "data": b64(PDF), "content_type": "application/pdf"}]}
    content.update(changes)
    return content
