"""Sample Kivra content shared by the client's tests: a valid salaryslip object and a content made from it."""
from datetime import date

from kivra.sender_api.content import salaryslip_content

PDF = b"%PDF-1.4 test payslip"
SLIP = {
    "document_metadata": {"creation_timestamp": "2026-11-24T10:00:00Z", "source_system": "test"},
    "employment": {"employer": {
        "legal_name": "Demo AB",
        "legal_identifiers": {"vat_number": "SE556840226601", "org_number": "556840-2266"},
        "contact_information": {
            "address": {"street_address": "Storgatan 1", "postal_code": "111 22", "city": "Stockholm", "country": "Sweden"},
            "email_address": "lon@demo.se", "telephone_number": "08-123 456 00"},
    }},
    "pay_period": {"start_date": "2026-11-01", "end_date": "2026-11-30", "payout_date": "2026-11-25",
                   "gross_pay": {"monetary_amount": "32500", "currency": "SEK"},
                   "tax_deducted": {"monetary_amount": "9750", "currency": "SEK"},
                   "net_pay": {"monetary_amount": "22750", "currency": "SEK"}},
}


def payslip(ssn: str, subject: str = "Lönebesked november 2026", **kwargs) -> bytes:
    args = dict(ssn=ssn, subject=subject, generated_at=date(2026, 11, 24), pdf=PDF, salaryslip=SLIP,
                html="<p>Nettolön 22 750 kr</p>")
    args.update(kwargs)
    return salaryslip_content(**args)
