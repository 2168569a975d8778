"""Headers every answer carries, and the refusal of state changes sent from another site.

* ``Content-Security-Policy``: scripts and style sheets only from the service
  itself, no inline script at all; the one inline style sheet allowed is the
  notice document's (an exported notice must stand alone), by its SHA-256.
  ``frame-ancestors 'none'`` (and ``X-Frame-Options: DENY`` for older
  browsers) keeps the pages out of other sites' frames.
* ``X-Content-Type-Options: nosniff``; ``Referrer-Policy: no-referrer`` (page
  addresses carry screening ids).
* ``Cache-Control: no-store`` on every answer that does not set its own:
  screenings, notices and pages carry personal data, and a shared or browser
  cache must not keep them. Static files set their own.
* ``Strict-Transport-Security`` when the request came over HTTPS.
* A POST, PUT, PATCH or DELETE that a browser says comes from another site
  (``Sec-Fetch-Site``, or failing that an ``Origin`` that is not this host) is
  refused with 403 before it reaches a route: sign-in included, which has no
  CSRF token to check. Scripts send neither header and are not affected.
* ``request.state.cookie_refused``: whether the browser will drop the session
  cookie (plain HTTP to a host other than loopback), for the sign-in page.

The refusals written here and by :mod:`.limits` are worded in the client's
language, as the API's typed errors are: Japanese when ``Accept-Language``
puts it first, else English.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..locale import N_, _, use_language
from ..problems import Problem
from .auth import cookie_refused
from .errors import problem_response

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAME_SITE_FETCHES = frozenset({"same-origin", "none"})
"""``Sec-Fetch-Site`` values of a request this site made, or the user typed."""


def accepted_language(headers: Headers) -> str:
    """Japanese when the client's first choice in ``Accept-Language`` is Japanese, else English."""
    first = headers.get("accept-language", "").split(",")[0].strip().lower()
    return "ja" if first.startswith("ja") else "en"


def localized_refusal(scope: Scope, status: int, kind: str, message: str, retry_after: int | None = None, **params: Any) -> JSONResponse:
    """An error record for ``scope``'s request, its message (an ``N_`` id) in the client's language."""
    with use_language(accepted_language(Headers(scope=scope))):
        text = _(message, **params)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return problem_response(status, [Problem(scope["path"], text, kind=kind)], scope["path"], headers)


CROSS_SITE = N_("refused: this request was sent by a page of another site")


def inline_style_hashes() -> list[str]:
    """CSP sources for the inline ``<style>`` of the notice document (the HTML export the preview shows)."""
    text = (resources.files("dossier_rules") / "templates" / "notice.html").read_text(encoding="utf-8")
    return [f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'" for css in re.findall(r"<style>(.*?)</style>", text, re.S)]


def content_security_policy() -> str:
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src " + " ".join(["'self'", *inline_style_hashes()]),
            "img-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    )


def cross_site(headers: Headers) -> bool:
    """Whether a browser says the request was made by a page of another site (or an opaque origin)."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in SAME_SITE_FETCHES
    origin = headers.get("origin")
    if origin is None:
        return False
    return urlsplit(origin).netloc.lower() != headers.get("host", "").lower()


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP answer; cross-site state changes refused."""

    def __init__(self, app: ASGIApp, secure_cookies: bool = True):
        self.app = app
        self.policy = content_security_policy()
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        scope.setdefault("state", {})["cookie_refused"] = cookie_refused(Request(scope), self.secure_cookies)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = self.policy
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "no-referrer"
                headers.setdefault("Cache-Control", "no-store")
                if https:
                    headers["Strict-Transport-Security"] = "max-age=31536000"
            await send(message)

        if scope["method"] in UNSAFE_METHODS and cross_site(Headers(scope=scope)):
            await localized_refusal(scope, 403, "forbidden", CROSS_SITE)(scope, receive, with_headers)
            return
        await self.app(scope, receive, with_headers)
