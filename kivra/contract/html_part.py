"""Kivra's rules for a content's HTML part (no JavaScript, everything inline), checked on the markup as parsed.

The client checks before sending and the sandbox on receipt, with this one reading of the rules: a text that reads
like script (`Acme onerror=x AB`, escaped `<script>`) is text; only tags and attributes count.
"""
import re
from html.parser import HTMLParser

SCRIPT_TAGS = frozenset({"script", "noscript"})
OUTSIDE_TAGS = frozenset({"link", "object", "embed", "iframe", "frame", "frameset", "applet", "base", "portal"})
# Attributes whose value the page loads; plain links (`href` of `a`) are allowed.
LOADING_ATTRIBUTES = frozenset({"src", "srcset", "poster", "background", "data", "codebase", "xlink:href"})
_SCHEME_SCRIPT = re.compile(r"^(?:javascript|vbscript|livescript):", re.I)
_OUTSIDE_URL = re.compile(r"(?:^|[\s,])(?:[a-z][a-z0-9+.-]*:)?//", re.I)
_CSS_OUTSIDE = re.compile(r"""url\(\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//|@import""", re.I)
_CSS_SCRIPT = re.compile(r"expression\s*\(|javascript:", re.I)
_TRACKING = re.compile(r"utm_[a-z]+=|[?&](?:fbclid|gclid|mc_eid)=", re.I)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")  # what a browser skips inside a URL's scheme


class Finding(Exception):
    """The first rule the markup breaks: `script`, `outside` or `tracking` (a tracking parameter in a link: our rule,
    not Kivra's)."""


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        if tag in SCRIPT_TAGS:
            raise Finding("script")
        if tag in OUTSIDE_TAGS or (tag == "meta" and any(n == "http-equiv" and (v or "").lower() == "refresh"
                                                           for n, v in attrs)):
            raise Finding("outside")
        self.in_style = tag == "style"
        for name, value in attrs:  # names come lower-cased, values with their character references resolved
            self.check_attribute(name, value or "")

    def handle_endtag(self, tag):
        self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            check_css(data)

    @staticmethod
    def check_attribute(name: str, value: str) -> None:
        if name.startswith("on") or _SCHEME_SCRIPT.match(_INVISIBLE.sub("", value)):
            raise Finding("script")
        if name == "style":
            check_css(value)
        if name in LOADING_ATTRIBUTES and _OUTSIDE_URL.search(value.strip()):
            raise Finding("outside")
        if _TRACKING.search(value):
            raise Finding("tracking")


def check_css(css: str) -> None:
    if _CSS_SCRIPT.search(css):
        raise Finding("script")
    if _CSS_OUTSIDE.search(css):
        raise Finding("outside")


def finding(html: str) -> str | None:
    """`script`, `outside` or `tracking` for the first rule the markup breaks, None if it keeps them all."""
    if re.search(r"<\s*script", html, re.I):  # escaped text never holds a bare `<`: only markup can say this
        return "script"
    checker = _Checker()
    try:
        checker.feed(html)
        checker.close()
    except Finding as found:
        return str(found)
    return None
