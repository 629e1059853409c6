"""Kivra's rules for a content's HTML part (no JavaScript, everything inline), checked on the markup as parsed.

The client checks before sending and the sandbox on receipt, with this one reading of the rules: a text that reads
like script (`Acme onerror=x AB`, escaped `<script>`) is text; only tags and attributes count.
"""
import re
from functools import lru_cache
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


# A document made only of plain tags (double-quoted values without `<` or `>`), text without `<`, and a doctype reads
# the same to any parser: each `<` opens a tag that ends at the next `>`. Its markup is then its tags and its styles'
# text, the same for every payslip of one template, so the parse of that markup is made once (a parse of the whole
# part cost ~0.4 ms per payslip, issue 19). Anything else (a comment, a single-quoted or bare value, a `>` in a
# value, a stray `<`) is parsed whole, as before.
_PLAIN = re.compile(r"""(?:<!doctype html>|<(?:/?[a-z][a-z0-9-]*)(?:\s+[a-z][a-z0-9:_-]*(?:="[^"<>]*")?)*\s*/?>|[^<]+)""",
                    re.I)
_STYLE_OPEN = re.compile(r"<style\b", re.I)


def finding(html: str) -> str | None:
    """`script`, `outside` or `tracking` for the first rule the markup breaks, None if it keeps them all."""
    if re.search(r"<\s*script", html, re.I):  # escaped text never holds a bare `<`: only markup can say this
        return "script"
    markup = _markup(html)
    return _parsed(html) if markup is None else _markup_finding(markup)


def _markup(html: str) -> str | None:
    """The tags of a plain document, with the text of its style elements; None when it is not plain."""
    parts, in_style, at = [], False, 0
    for match in _PLAIN.finditer(html):
        if match.start() != at:
            return None  # something the pattern does not cover: parse it whole
        at, piece = match.end(), match.group()
        if piece.startswith("<"):
            parts.append(piece)
            in_style = bool(_STYLE_OPEN.match(piece))
        elif in_style:
            parts.append(piece)
    return "".join(parts) if at == len(html) else None


@lru_cache(maxsize=64)
def _markup_finding(markup: str) -> str | None:
    return _parsed(markup)


def _parsed(html: str) -> str | None:
    checker = _Checker()
    try:
        checker.feed(html)
        checker.close()
    except Finding as found:
        return str(found)
    return None
