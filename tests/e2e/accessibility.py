"""axe-core over the pages the browser flows reach: every page load, every screenshot and each test's last state.

axe runs through `page.evaluate`, which the browser takes from Playwright over the DevTools protocol and does not
hold to the page's Content-Security-Policy, so the app's policy (`script-src 'self'`, kivra/web/headers.py) stays
as it is in production and the policy guard in conftest.py keeps watching the app. A <script> tag
(`add_script_tag`, even with a path) is inline to the page and the policy would refuse it.
"""
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError

AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
FAILING_IMPACTS = ("critical", "serious")
# One audit at a time per page (axe refuses a second run while one is going), with the serious findings only.
RUN_AXE = """async tags => {
    const run = () => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
    window.__axeQueue = (window.__axeQueue || Promise.resolve()).catch(() => null).then(run);
    const results = await window.__axeQueue;
    return results.violations.filter(v => v.impact === 'critical' || v.impact === 'serious').map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html})),
    }));
}"""


class AccessibilityAudit:
    """The critical and serious axe violations seen in a test's pages, each once, with where it was first seen."""

    def __init__(self, audited_origin: str | None = None):
        self.audited_origin = audited_origin  # None: every page; else only the app's (not the mailbox or sandbox)
        self.found: dict[tuple[str, str], str] = {}
        self.audited_urls: list[str] = []
        self.pages: list = []

    def watch(self, page) -> None:
        """Audit `page` on every load and before every screenshot (and at the test's end: `check_all`)."""
        self.pages.append(page)
        page.on("load", self._check_quietly)
        take_screenshot = page.screenshot

        def screenshot(*args, **kwargs):
            self.check(page)
            return take_screenshot(*args, **kwargs)

        page.screenshot = screenshot

    def check(self, page) -> None:
        if page.is_closed() or not self._audited(page.url):
            return
        if urlsplit(page.url).path.endswith(".pdf") or page.evaluate("() => document.contentType") != "text/html":
            return  # a PDF opened in a tab: Chromium's own viewer, not a page of ours
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
        violations = page.evaluate(RUN_AXE, RULE_TAGS)
        self.audited_urls.append(page.url)
        for violation in violations:
            for node in violation["nodes"]:
                self.found.setdefault((violation["id"], node["target"]), (
                    f"{violation['id']} ({violation['impact']}): {violation['help']}\n"
                    f"    at {page.url}\n    {node['target']}\n    {node['html']}"))

    def check_all(self) -> None:
        for page in self.pages:
            self.check(page)

    def report(self) -> str:
        return (f"axe found {len(self.found)} critical or serious accessibility violation(s):\n"
                + "\n".join(self.found.values()))

    def _audited(self, url: str) -> bool:
        return self.audited_origin is None or url.startswith(self.audited_origin)

    def _check_quietly(self, page) -> None:
        """On a load the test has moved on: a page that navigates or closes during the audit is audited at its
        next load, screenshot or the test's end instead."""
        try:
            self.check(page)
        except PlaywrightError as error:
            if not any(word in str(error) for word in ("destroyed", "closed", "navigation", "Target")):
                raise
