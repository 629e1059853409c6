"""A person at the bureau, over HTTP as a browser: signs in, takes the CSRF token from the page, posts forms and
follows redirects. Nothing here reaches into the app; what it sees is what the person sees."""
import html
import re

import httpx

from tests.conftest import CSRF_INPUT


class PageError(AssertionError):
    """The web answered something a person would see as broken (a 5xx, a form that did not take)."""


def words(page: str) -> str:
    """The page as one line of text, tags dropped: what a person reads."""
    body = html.unescape(re.sub(r"<[^>]+>", " ", page))
    return re.sub(r"\s+", " ", body.replace("\xa0", " "))


class Browser:
    def __init__(self, base_url: str, email: str, password: str):
        self.http = httpx.Client(base_url=base_url, follow_redirects=True, timeout=60)
        self.email, self.password, self.token = email, password, ""

    def sign_in(self) -> "Browser":
        self.token = CSRF_INPUT.search(self.http.get("/login").text).group(1)
        signed_in = self.http.post("/login", data={"email": self.email, "password": self.password,
                                                   "csrf_token": self.token})
        if signed_in.status_code != 200 or signed_in.url.path == "/login":
            raise PageError(f"{self.email} could not sign in: {signed_in.status_code} at {signed_in.url.path}")
        self.token = CSRF_INPUT.search(self.http.get("/runs").text).group(1)
        return self

    def get(self, url: str, ok=(200,), **params) -> httpx.Response:
        response = self.http.get(url, params=params or None)
        self._check("GET", url, response, ok)
        return response

    def post(self, url: str, data: dict | None = None, ok=(200,)) -> httpx.Response:
        """A form submitted without JavaScript: the answer after redirects."""
        response = self.http.post(url, data={"csrf_token": self.token, **(data or {})})
        self._check("POST", url, response, ok)
        return response

    def _check(self, method: str, url: str, response: httpx.Response, ok) -> None:
        if response.status_code not in ok:
            raise PageError(f"{method} {url} as {self.email}: {response.status_code} "
                            f"(at {response.url.path}): {words(response.text)[:300]}")

    def close(self) -> None:
        self.http.close()
