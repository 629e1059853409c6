"""The HTML part is checked as built: a name that merely reads like script is text; real script is refused."""
from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy import select

from kivra.dispatch import service, tasks
from kivra.dispatch.models import Dispatch
from kivra.extensions import db
from kivra.sender_api.content import PayloadError, check_html
from tests.dispatch.test_engine import USER, calculated_run, sender  # noqa: F401 - the fixture

pytestmark = pytest.mark.both_databases

TRICKY_COMPANY = "Acme onerror=alert(1) AB"
TRICKY_EMPLOYEE = "<script>x</script>"


class Markup(HTMLParser):
    """Every tag and attribute name of a document."""

    def __init__(self, html):
        super().__init__()
        self.tags, self.attributes = [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]


def test_a_company_and_an_employee_named_like_script_get_their_payslips_sent(company, sender, kivra):  # noqa: F811
    company.name = TRICKY_COMPANY
    db.session.commit()
    run = calculated_run(company, USER)
    run.payslips[0].employee.name = TRICKY_EMPLOYEE
    db.session.commit()
    service.request_send(run, sender)
    tasks.drain()
    row = db.session.scalar(select(Dispatch).where(Dispatch.run_id == run.id))
    assert (row.channel, row.state) == ("kivra", "delivered")
    html = httpx.get(f"{kivra.url}/_sandbox/content/{row.content_key}.html").text  # as Kivra received it
    assert TRICKY_COMPANY in html and "&lt;script" not in html  # the company's name is in it, as text
    markup = Markup(html)
    assert "script" not in markup.tags
    assert not [name for name in markup.attributes if name.startswith("on")]


@pytest.mark.parametrize("html", [
    '<p>Acme onerror=alert(1) AB</p>', "<p>&lt;script&gt;x&lt;/script&gt;</p>", "<p>javascript: a word</p>",
    "<p>src=//cdn.example/x.png @import utm_source=x</p>", '<p title="onclick=x()">x</p>',
])
def test_words_in_the_text_are_not_markup(html):
    check_html(html)


@pytest.mark.parametrize("html", [
    '<img src="x.png" onerror="alert(1)">', "<IMG SRC=x ONERROR=alert(1)>", '<img/src="x"/onerror=alert(1)>',
    '<svg onload="x()"></svg>', "<body onload=x()>", '<a href=" JaVa&#x09;ScRiPt:alert(1)">x</a>',
    "<p>x</p><script>x</script>", '<form action="javascript:x()"></form>',
])
def test_real_script_in_the_markup_is_still_refused(html):
    with pytest.raises(PayloadError, match="script"):
        check_html(html)


@pytest.mark.parametrize("html", [
    '<p style="background: url(https://x.example/t.png)">x</p>', '<img src="//x.example/t.png">',
    '<link rel="stylesheet" href="x.css">',
])
def test_loading_from_outside_is_still_refused(html):
    with pytest.raises(PayloadError, match="outside"):
        check_html(html)
