"""The OpenAPI document a client is generated from: FastAPI's, completed where routes cannot say it themselves.

FastAPI writes each route's parameters, models and declared responses. This
adds what belongs to the whole API: ``info``, ``servers`` and the tags with
their descriptions; the security schemes (a personal token, or the session
cookie with its CSRF header) applied to each operation by the role it
requires; the dossier's schema (read by the screening routes from the raw
body, so no route parameter carries it); the ``Accept-Language`` header every
message follows; and operation ids that are the routes' function names, so a
generated client's functions read like the code's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import RouteContext, iter_route_contexts

from .. import __version__
from ..model import DOSSIER_ADAPTER
from .auth import CSRF_HEADER, SESSION_COOKIE, UNSAFE_METHODS

REF = "#/components/schemas/{model}"
DESCRIPTION = """\
Screen Specified Skilled Worker (特定技能) candidate and broker dossiers against the rule packs of Japan's
Memoranda of Cooperation, read back and re-screen stored screenings, draft and approve the information-sharing
notices the MOCs provide for, and verify the tamper-evident screening log.

Every refusal is an error record (`ErrorRecord`): a stable `code` and its `params` for programs, and located
messages in the caller's language (`Accept-Language: ja` for Japanese, English otherwise). Authenticate with a
personal token (`Authorization: Bearer drt_...`), or with the session cookie `POST /api/v1/session` sets: requests
made with the cookie that change anything also send the session's CSRF token as `X-CSRF-Token`.
"""
TAGS = [
    {"name": "accounts", "description": "Sign in and out, the caller's own account and personal tokens"},
    {"name": "screenings", "description": "Screen dossiers (one, or many as JSON Lines), list, read back and re-screen stored screenings"},
    {"name": "packs and registries", "description": "What the service screens with: rule packs, rules, MOC coverage, registries"},
    {"name": "notices", "description": "Information-sharing notices drafted from stored screenings: list, review, approve, export"},
    {"name": "administration", "description": "Accounts of the team and registry imports (admin role)"},
    {"name": "screening log", "description": "The screening log as a transparency log: signed checkpoints, public key, proofs"},
    {"name": "operations", "description": "Liveness, readiness and metrics for the people running the service"},
]
SECURITY_SCHEMES = {
    "token": {"type": "http", "scheme": "bearer", "description": "A personal token (`drt_...`), created with `POST /api/v1/tokens`"},
    "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE, "description": "The session cookie `POST /api/v1/session` sets"},
    "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER, "description": "The session's `csrf_token`: sent with the cookie on every state change"},
}
ACCEPT_LANGUAGE = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "description": "`ja` for messages in Japanese; English otherwise",
    "schema": {"type": "string"},
}


def install(app: FastAPI) -> None:
    """Serve :func:`document` as the app's ``/openapi.json``."""
    app.openapi = lambda: document(app)  # type: ignore[method-assign]  # FastAPI's documented way to replace the document


def document(app: FastAPI) -> dict[str, Any]:
    """The whole document, built once per app."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=__version__,
            openapi_version=app.openapi_version,
            summary=app.summary,
            description=DESCRIPTION,
            routes=app.routes,
            tags=TAGS,
            servers=[{"url": "/", "description": "The service this document was fetched from"}],
            contact={"name": "dossier-rules maintainers", "url": "https://dossier-rules.invalid/"},
            license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
        )
        _add_dossier(schema["components"]["schemas"])
        schema["components"]["securitySchemes"] = SECURITY_SCHEMES
        schema["components"]["parameters"] = {"AcceptLanguage": ACCEPT_LANGUAGE}
        for route in iter_route_contexts(app.routes):
            if getattr(route, "include_in_schema", False) and route.path_format in schema["paths"]:
                for method in route.methods or ():
                    _complete(schema["paths"][route.path_format][method.lower()], route, method)
        for unused in ("HTTPValidationError", "ValidationError"):
            schema["components"]["schemas"].pop(unused, None)
        app.openapi_schema = schema
    return app.openapi_schema


def _add_dossier(schemas: dict[str, Any]) -> None:
    """``Dossier`` (either kind, by ``kind``) and its parts, from the models that validate a dossier."""
    dossier = DOSSIER_ADAPTER.json_schema(ref_template=REF)
    for name, part in dossier.pop("$defs").items():
        if schemas.setdefault(name, part) != part:
            raise ValueError(f"two different schemas are named {name}")
    schemas["Dossier"] = {**dossier, "title": "Dossier", "description": "A candidate or broker dossier (schemas/dossier.schema.json)"}


def _complete(operation: dict[str, Any], route: RouteContext, method: str) -> None:
    """Operation id, security by the role required, the language header; no FastAPI default 422 left behind."""
    operation["operationId"] = route.name
    role = _required_role(route.dependant)
    if role is None:
        operation["security"] = []
    else:
        session: dict[str, list[str]] = {"session": [], "csrf": []} if method in UNSAFE_METHODS else {"session": []}
        operation["security"] = [{"token": []}, session]
        operation["x-required-role"] = role
    operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/AcceptLanguage"})
    invalid = operation["responses"].get("422", {})
    if "HTTPValidationError" in str(invalid):
        del operation["responses"]["422"]


def _required_role(dependant: Dependant) -> str | None:
    """The role a route's ``require(...)`` dependency names, searching its dependencies."""
    call: Callable[..., Any] | None = dependant.call
    name = getattr(call, "__name__", "")
    if name.startswith("require_"):
        return name.removeprefix("require_")
    for sub in dependant.dependencies:
        found = _required_role(sub)
        if found:
            return found
    return None
