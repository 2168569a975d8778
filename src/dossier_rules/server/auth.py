"""Who is asking, and may they: the dependencies every route of the API and the pages declares.

A request is authenticated by a personal token (``Authorization: Bearer
drt_...``, for scripts) or by the session cookie a login set (for browsers).
Roles are checked with :func:`require`::

    @router.post("/x")
    def x(who: Principal = Depends(require("reviewer"))): ...

A cookie is sent by the browser on its own, so a state-changing request
(POST, PUT, PATCH, DELETE) that is authenticated by cookie must also carry the
session's CSRF token: in the ``X-CSRF-Token`` header, or in a form field
named ``csrf_token`` (:func:`csrf_token` gives the value to put in a form).
Token-authenticated requests need no CSRF token: nothing sends them
implicitly.

The session cookie is ``__Host-dossier_rules_session``: Secure, for this
host only, path ``/`` (a browser refuses that name otherwise, so no other
site on a parent domain can set or shadow it). A Secure cookie is dropped by
browsers over plain HTTP except on a loopback address, which would make
sign-in fail without a word: :func:`cookie_refused` tells the sign-in page
to say so.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool

from ..services.accounts import AccountError, Accounts, Role, Session, User
from .settings import Settings, loopback

SESSION_COOKIE = "__Host-dossier_rules_session"
PLAIN_SESSION_COOKIE = "dossier_rules_session"
"""The name without the prefix, used only when ``Settings.secure_cookies`` is off (tests over plain HTTP)."""
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: the user, and how they proved it (a session carries its CSRF token)."""

    user: User
    via: Literal["token", "session"]
    session: Session | None = None


def accounts_of(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def session_cookie(settings: Settings) -> str:
    return SESSION_COOKIE if settings.secure_cookies else PLAIN_SESSION_COOKIE


def cookie_refused(request: Request, secure_cookies: bool) -> bool:
    """Whether the browser will drop the session cookie: plain HTTP to a host that is not loopback.

    The scheme is the one the client used: behind a proxy, that is what the
    proxy says in ``X-Forwarded-Proto`` once ``serve --forwarded-allow-ips``
    trusts it. :class:`.headers.SecurityHeaders` puts the answer in
    ``request.state.cookie_refused`` for the sign-in page.
    """
    return secure_cookies and request.url.scheme != "https" and not loopback(request.url.hostname or "")


def identify(request: Request) -> Principal | None:
    """The caller, from a bearer token or the session cookie; None when neither is valid.

    A request carrying a bearer token is judged by the token alone, so a bad
    token is never rescued by a cookie sent alongside it.
    """
    accounts = accounts_of(request)
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme:
        user = accounts.user_for_token(secret.strip()) if scheme.lower() == "bearer" else None
        return Principal(user, "token") if user else None
    session = accounts.session(request.cookies.get(session_cookie(settings_of(request)), ""))
    return Principal(session.user, "session", session) if session else None


def _unauthenticated() -> HTTPException:
    return HTTPException(401, "sign in, or send a personal token (Authorization: Bearer drt_...)", headers={"WWW-Authenticate": "Bearer"})


async def check_csrf(request: Request, principal: Principal) -> None:
    """Refuse a cookie-authenticated state change that does not carry the session's CSRF token."""
    if principal.via != "session" or request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    assert principal.session is not None
    if not sent or not hmac.compare_digest(sent, principal.session.csrf):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def require(role: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that admits users holding ``role`` or a higher one (and checks CSRF for cookie sessions)."""

    async def dependency(request: Request) -> Principal:
        principal = await run_in_threadpool(identify, request)  # reads (and may touch) the database: never on the event loop
        if principal is None:
            raise _unauthenticated()
        if not principal.user.can(role):
            raise HTTPException(403, f"this needs the {role} role")
        await check_csrf(request, principal)
        request.state.principal = principal
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency


signed_in = require("screener")
"""Any enabled user."""


def optional_principal(request: Request) -> Principal | None:
    """For pages that render differently when signed in (a login page, a header); never raises."""
    return identify(request)


def csrf_token(principal: Principal = Depends(signed_in)) -> str:
    """The value to put in a form's ``csrf_token`` field (empty for token callers, who need none)."""
    return principal.session.csrf if principal.session else ""


# --------------------------------------------------------------------------- logging in and out


def log_in(request: Request, response: Response, username: str, password: str) -> Session:
    """Check the password (with the login limits) and set the session cookie on ``response``.

    Raises :class:`AccountError` (or its subclass ``LoginLimited``) when refused.
    """
    accounts, settings = accounts_of(request), settings_of(request)
    user = accounts.authenticate(username, password, client_address(request))
    old = request.cookies.get(session_cookie(settings))
    if old:
        accounts.end_session(old)
    sid, session = accounts.create_session(user, settings.session_hours)
    response.set_cookie(
        session_cookie(settings), sid, max_age=settings.session_hours * 3600, httponly=True, secure=settings.secure_cookies, samesite="strict", path="/"
    )
    return session


def log_out(request: Request, response: Response) -> None:
    settings = settings_of(request)
    sid = request.cookies.get(session_cookie(settings))
    if sid:
        accounts_of(request).end_session(sid)
    response.delete_cookie(session_cookie(settings), path="/", httponly=True, secure=settings.secure_cookies, samesite="strict")


__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "AccountError",
    "Principal",
    "csrf_token",
    "identify",
    "log_in",
    "log_out",
    "optional_principal",
    "require",
    "signed_in",
]
