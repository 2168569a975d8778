"""The screening service: an HTTP API with accounts and roles, and a tamper-evident screening log.

For server-rendered pages built on it:

* ``create_app(Settings(...), extra_routers=(pages_router,))`` mounts the
  pages' ``APIRouter`` on the same app (``dossier-rules serve`` does this for
  ``dossier_rules.web`` when it exists). Pages live outside ``/api/``.
* Protect a page with the same role dependencies as the API:
  ``who: Principal = Depends(require("screener"|"reviewer"|"admin"))``;
  ``optional_principal`` when a page renders for anyone (the login page).
  Turn a 401 into a redirect to the login page in the pages' own handler.
* Sign in and out with ``log_in(request, response, username, password)``
  (raises ``AccountError``; ``LoginLimited`` when rate-limited) and
  ``log_out(request, response)``: they set and clear the session cookie.
* Every state-changing form carries ``<input type="hidden" name="csrf_token"
  value="{{ csrf }}">`` with ``csrf = who.session.csrf`` (or the
  ``csrf_token`` dependency); ``require`` checks it on POST/PUT/PATCH/DELETE
  for cookie sessions. ``who.user.lang`` is the user's language preference.
* Reach the engine, accounts and log through ``request.app.state``
  (``engine``, ``accounts``, ``log``, ``db``, ``settings``), never by
  building a second one.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..services.accounts import AccountError, Accounts, LoginLimited, User
    from .app import create_app
    from .auth import CSRF_FIELD, CSRF_HEADER, Principal, csrf_token, log_in, log_out, optional_principal, require, signed_in
    from .settings import Settings

_HOME = {
    "AccountError": "..services.accounts",
    "Accounts": "..services.accounts",
    "LoginLimited": "..services.accounts",
    "User": "..services.accounts",
    "create_app": "app",
    "CSRF_FIELD": "auth",
    "CSRF_HEADER": "auth",
    "Principal": "auth",
    "csrf_token": "auth",
    "log_in": "auth",
    "log_out": "auth",
    "optional_principal": "auth",
    "require": "auth",
    "signed_in": "auth",
    "Settings": "settings",
}


def __getattr__(name: str) -> Any:
    """Load the public names on first use, so that importing this package for one name (the command
    line's ``serve``, the pages' sign-in) does not build the app and every route first."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name] if _HOME[name].startswith("..") else f".{_HOME[name]}", __name__), name)


__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "AccountError",
    "Accounts",
    "LoginLimited",
    "Principal",
    "Settings",
    "User",
    "create_app",
    "csrf_token",
    "log_in",
    "log_out",
    "optional_principal",
    "require",
    "signed_in",
]
