"""What we refuse to send, before it leaves: Kivra's rules on subjects, the salaryslip schema and the HTML part."""
import base64
import json
import uuid
from datetime import date

import pytest

from kivra.sender_api.content import PayloadError, check_html, check_subject, salaryslip_content
from tests.kivra_samples import PDF, SLIP


def content(**overrides):
    args = dict(ssn="191212121212", subject="Lönebesked november 2026", generated_at=date(2026, 11, 24), pdf=PDF,
                salaryslip=SLIP, personal=("Astrid Lindqvist",))
    args.update(overrides)
    return salaryslip_content(**args)


def test_content_has_kivras_shape():
    body = json.loads(content(html="<p>Nettolön</p>"))
    assert body["type"] == "salaryslip" and body["ssn"] == "191212121212"
    assert body["generated_at"] == "2026-11-24"
    part = body["parts"][0]
    assert base64.b64decode(part["data"]) == PDF and part["content_type"] == "application/pdf"
    assert part["responsive_part"]["content_type"] == "text/html"
    assert "retain" not in body


def test_same_input_gives_the_same_bytes():
    assert content(html="<p>x</p>") == content(html="<p>x</p>")


@pytest.mark.parametrize("html", [None, "<p>Nettolön 22 750 kr</p>"])
@pytest.mark.parametrize("retain", [False, True])
def test_the_bytes_are_json_dumps_of_the_whole_content(html, retain):
    """The parts' base64 is put in after the rest is written: the body is still the one canonical JSON of it all,
    escapes in the payslip's text included, and each part decodes to what went in."""
    name = 'Bygg & "Lön" \\ AB\u2028Ö\x01'
    slip = {**SLIP, "employment": {"employer": {**SLIP["employment"]["employer"], "legal_name": name}}}
    body = content(salaryslip=slip, html=html, retain=retain, file_name='lonebesked "nov".pdf')
    whole = json.loads(body)
    assert body == json.dumps(whole, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    assert whole["salaryslip"]["employment"]["employer"]["legal_name"] == name
    part = whole["parts"][0]
    assert base64.b64decode(part["data"]) == PDF and part["name"] == 'lonebesked "nov".pdf'
    if html is None:
        assert "responsive_part" not in part
    else:
        assert base64.b64decode(part["responsive_part"]["data"]).decode("utf-8") == html
    assert body.count(b'"data":') == 1 + (html is not None)


def test_a_payslip_text_holding_the_marker_is_refused_not_sent_with_the_wrong_bytes(monkeypatch):
    marker = uuid.UUID("00000000-0000-4000-8000-000000000001")
    monkeypatch.setattr(uuid, "uuid4", lambda: marker)
    with pytest.raises(AssertionError, match="marker"):
        content(subject="Lönebesked", salaryslip={**SLIP, "employment": {"employer": {
            **SLIP["employment"]["employer"], "legal_name": f"{marker.hex}pdf"}}})


def test_retain_sets_the_retention_time():
    body = json.loads(content(retain=True, retention_days=390))
    assert body["retain"] is True and body["retention_time"] == "390"
    with pytest.raises(PayloadError):
        content(retain=True, retention_days=60)


@pytest.mark.parametrize("subject", ["", "   ", "x" * 36, "Lönebesked 19121212-1212", "Lönebesked 191212121212",
                                     "Lönebesked för Astrid", "lindqvist lön"])
def test_bad_subjects_are_refused(subject):
    with pytest.raises(PayloadError):
        check_subject(subject, ("Astrid Lindqvist",))


def test_a_35_character_subject_is_fine():
    check_subject("Rättat lönebesked september 2026 x", ())
    assert len("Rättat lönebesked september 2026 x") <= 35


def test_salaryslip_is_checked_against_kivras_schema():
    broken = json.loads(json.dumps(SLIP))
    broken["pay_period"]["net_pay"]["monetary_amount"] = "22 750,00"
    with pytest.raises(PayloadError, match="pay_period/net_pay/monetary_amount"):
        content(salaryslip=broken)
    extra = {**SLIP, "employee_name": "Astrid"}  # additionalProperties: false
    with pytest.raises(PayloadError):
        content(salaryslip=extra)


@pytest.mark.parametrize("html", ["<script>alert(1)</script>", '<img src="https://cdn.example/x.png">',
                                  '<a href="https://x.example/?utm_source=mail">x</a>', '<p onclick="x()">',
                                  "<style>@import url(//x.example/a.css)</style>", '<a href="javascript:x()">'])
def test_html_part_must_be_inline_and_script_free(html):
    with pytest.raises(PayloadError):
        check_html(html)


def test_plain_links_and_inline_css_are_allowed():
    check_html('<style>p{color:#123}</style><p>Se <a href="https://www.kivra.com/">Kivra</a></p>')


@pytest.mark.parametrize("overrides", [{"ssn": "19121212-1212"}, {"pdf": b"not a pdf"}])
def test_malformed_recipient_or_pdf(overrides):
    with pytest.raises(PayloadError):
        content(**overrides)


@pytest.mark.parametrize("subject, name", [("Lönebesked januari 2027", "Jan Olsson"), ("Lönebesked juli 2026", "Li Wang"),
                                           ("Lönebesked maj 2026", "Maj Persson"), ("Rättat lönebesked mars 2026", "Ed Berg")])
def test_a_name_that_is_part_of_a_word_or_a_month_is_not_a_leak(subject, name):
    check_subject(subject, (name,))


def test_the_recipients_name_as_a_word_is_a_leak():
    with pytest.raises(PayloadError):
        check_subject("Lön till Olsson", ("Jan Olsson",))


@pytest.mark.parametrize("html", ['<img srcset="https://cdn.example/x.png 2x">', '<video poster="//x.example/p.jpg">',
                                  '<object data="https://x.example/a.swf"></object>', '<iframe src="x"></iframe>'])
def test_other_ways_of_loading_from_outside_are_refused(html):
    with pytest.raises(PayloadError):
        check_html(html)
