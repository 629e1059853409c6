"""The HTML part is checked as built: a name that merely reads like script is text; real script is refused."""
from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy import select

from kivra.contract import html_part
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
    assert html_part._markup(html) is not None  # plain: its markup's check is made once per template (issue 19)


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


# Documents whose markup alone is checked (plain) and ones parsed whole: either way, the finding of the whole parse.
SAMPLES = [
    '<p>Acme onerror=alert(1) AB</p>', "<p>&lt;script&gt;x&lt;/script&gt;</p>", '<p title="onclick=x()">x</p>',
    '<img src="x.png" onerror="alert(1)">', "<IMG SRC=x ONERROR=alert(1)>", '<img/src="x"/onerror=alert(1)>',
    '<svg onload="x()"></svg>', "<body onload=x()>", '<a href=" JaVa&#x09;ScRiPt:alert(1)">x</a>',
    '<form action="javascript:x()"></form>', '<p style="background: url(https://x.example/t.png)">x</p>',
    '<img src="//x.example/t.png">', '<link rel="stylesheet" href="x.css">', '<a href="https://x.se/?utm_source=y">x</a>',
    "<style>p { color: red }</style><p>x</p>", "<style>p { background: url(//x.example/t.png) }</style>",
    "<style>p { width: expression(alert(1)) }</style>", "<!doctype html><html><body><p>x</p></body></html>",
    '<a title="x>y" onclick="z()">x</a>', "<!-- <img src=x onerror=y> --><p>x</p>", "<p>1 < 2</p>",
    "<p>a</p><img src='x' onerror='y'>", '<meta http-equiv="refresh" content="0; url=https://x.example">',
    '<a href="jav&#x61;script:alert(1)">x</a>', "", "just text",
]


@pytest.mark.parametrize("html", SAMPLES)
def test_the_markup_of_a_plain_document_finds_what_the_whole_parse_finds(html):
    assert html_part.finding(html) == html_part._parsed(html)


@pytest.mark.parametrize("html", ['<a title="x>y" onclick="z()">x</a>', "<!-- x --><p>x</p>", "<p>1 < 2</p>",
                                  "<p a='x'>y</p>", "<p a=x>y</p>"])
def test_anything_but_plain_markup_is_parsed_whole(html):
    assert html_part._markup(html) is None
