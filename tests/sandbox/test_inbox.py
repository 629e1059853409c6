"""The HTML inbox: escaped, no personnummer in any URL, sent HTML served without the power to run scripts."""
import re

from tests.sandbox.conftest import ledger
from tests.sandbox.payloads import HTML, PDF, USER, salaryslip_content


def _reveals_the_user(link: str) -> bool:
    # Content keys are digits and hex, so "twelve digits in a row" is no test; look for the person's own number.
    return any(form in link for form in (USER, "19121212-1212", "121212-1212", "121212****"))


def _send(http, tenant, body):
    response = http.post(f"/v2/tenant/{tenant.key}/content", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response


def _links(page: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', page)


def test_inbox_lists_recipients_masked_and_links_without_personnummer(http, demo_tenant):
    _send(http, demo_tenant, salaryslip_content())
    page = http.get("/_sandbox/inbox")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert USER not in page.text and "19121212****" in page.text
    recipient_links = [link for link in _links(page.text) if link.startswith("/_sandbox/inbox/")]
    assert len(recipient_links) == 1
    assert not any(_reveals_the_user(link) for link in _links(page.text))

    inbox = http.get(recipient_links[0])
    assert inbox.status_code == 200 and "Lönebesked januari 2026" in inbox.text and "Demo AB" in inbox.text
    assert USER not in inbox.text
    assert not any(_reveals_the_user(link) for link in _links(inbox.text))


def test_markup_in_a_subject_is_escaped(http, demo_tenant):
    _send(http, demo_tenant, salaryslip_content(subject="<b>Lön</b><script>x()</script>"))
    inbox_link = [link for link in _links(http.get("/_sandbox/inbox").text) if link.startswith("/_sandbox/inbox/")][0]
    page = http.get(inbox_link).text
    assert "<script>x()" not in page and "&lt;script&gt;x()" in page and "&lt;b&gt;Lön" in page
    assert "script-src" not in page  # the policy lives in a header, not in the page
    assert "default-src 'none'" in http.get(inbox_link).headers["content-security-policy"]


def test_the_stored_pdf_and_html_are_served_the_html_with_a_no_script_policy(http, demo_tenant):
    key = _send(http, demo_tenant, salaryslip_content()).headers["kivra-objkey"]
    pdf = http.get(f"/_sandbox/content/{key}.pdf")
    assert pdf.status_code == 200 and pdf.content == PDF and pdf.headers["content-type"] == "application/pdf"
    html = http.get(f"/_sandbox/content/{key}.html")
    assert html.status_code == 200 and html.text == HTML
    policy = html.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'none'" in policy and "sandbox" in policy
    assert http.get("/_sandbox/content/nope.pdf").status_code == 404
    assert http.get("/_sandbox/inbox/0123456789abcdef").status_code == 404


def test_reset_empties_everything(http, demo_tenant):
    _send(http, demo_tenant, salaryslip_content())
    assert http.post("/_sandbox/reset").status_code == 200
    assert ledger(http) == {"contents": [], "deliveries_per_recipient": {}}
    assert http.get("/v2/tenant", headers=demo_tenant.headers).status_code == 401  # tokens are gone too
    assert "Nothing has been sent yet" in http.get("/_sandbox/inbox").text
