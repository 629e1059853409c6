"""The accessibility audit of the browser flows (tests/e2e/accessibility.py) can fail: a page with an unlabelled
field and a low-contrast text is caught, each node named, and a clean page passes — also under the app's policy."""
from tests.e2e.accessibility import AccessibilityAudit

BROKEN = """<!doctype html><html lang="en"><head><title>Broken</title></head><body><main>
<h1>Broken</h1><form><input type="text" name="who"></form><p style="color:#bbb;background:#fff">Faint</p>
</main></body></html>"""
CLEAN = """<!doctype html><html lang="en"><head><title>Clean</title></head><body><main>
<h1>Clean</h1><form><label for="who">Who</label><input id="who" type="text" name="who"></form></main></body></html>"""


def test_the_audit_fails_on_serious_violations_and_names_each_node(page, accessibility):
    """`accessibility` is the audit every browser test has: what it finds here would fail the test at its end."""
    page.set_content(BROKEN)
    accessibility.check(page)
    assert {rule for rule, _ in accessibility.found} == {"label", "color-contrast"}
    report = accessibility.report()
    assert "label (critical): Form elements must have labels" in report
    assert '<input type="text" name="who">' in report and "color-contrast (serious)" in report
    page.set_content(CLEAN)  # the fixture audits the page once more at the end, and passes it
    accessibility.found.clear()


def test_a_clean_page_passes(page):
    page.set_content(CLEAN)
    audit = AccessibilityAudit()
    audit.check(page)
    assert audit.found == {} and audit.audited_urls == ["about:blank"]


def test_the_audit_runs_under_the_apps_content_security_policy(page, live_url):
    """axe reaches the page without a <script> the policy would refuse; the policy guard would fail this test."""
    page.goto(f"{live_url}/login")
    audit = AccessibilityAudit(live_url)
    audit.check(page)
    assert audit.audited_urls == [f"{live_url}/login"]
    assert page.evaluate("() => typeof axe.run") == "function"
