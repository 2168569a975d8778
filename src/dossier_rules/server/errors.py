"""Every refusal of the service is an error record, the same shape the CLI writes for a bad input.

``{"source", "outcome", "errors": [{"kind", "message", "pointer", "line", "rule"}], "code", "params"}``
(``schemas/error-record.schema.json``): a client handles one shape whether a
dossier was invalid, a body too large, or a role missing, and acts on ``code``
(a typed error's own, or ``request.<kind>`` for a refusal of the request itself).

A typed error of the application (:class:`~dossier_rules.errors.DossierError`)
gets its status from :data:`STATUS_BY_CODE`, the one table mapping codes to
HTTP statuses, and its message from the catalog in the language the client
asks for (``Accept-Language: ja``; English otherwise).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException

from ..batch import error_record
from ..errors import DossierError
from ..locale import N_, _, translate, use_language
from ..problems import Problem
from ..sources import pointer
from ..storage import Conflict, StorageError

RETRY_AFTER_SECONDS = 5
"""What a 503 from a busy or unreachable database tells the client to wait."""

KIND_BY_STATUS = {
    400: "malformed",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}

STATUS_BY_CODE = {
    "notice.not_found": 404,
    "notice.not_draft": 409,
    "notice.is_draft": 409,
    "notice.no_pack": 409,
    "notice.not_in_force": 409,
    "notice.approver_missing": 422,
    "notice.none_chosen": 422,
    "notice.needs_reviewer": 403,
    "notice.not_a_reviewer": 403,
    "framework.wrong_state": 409,
    "framework.reason_missing": 422,
    "framework.awaits_result": 409,
    "framework.answer_before_sent": 422,
    "framework.bad_due": 422,
    "framework.refused": 422,
    "framework.unknown_notice": 422,
    "framework.other_partner": 422,
    "framework.already_received": 409,
    "framework.nothing_to_withdraw": 422,
    "framework.bad_period": 422,
    "framework.no_dispatch": 404,
    "framework.no_inquiry_article": 422,
    "framework.subject_missing": 422,
    "framework.reference_missing": 422,
    "framework.not_an_open_inquiry": 409,
    "screening.not_found": 404,
    "screening.dossier_not_stored": 409,
    "rule.not_found": 404,
    "rule.not_found_close": 404,
    "registry.unknown_kind": 422,
    "registry.kept_by_japan": 422,
    "registry.kept_by_partner": 422,
    "registry.unknown": 422,
    "registry.not_consulted": 422,
    "registry.sample": 409,
    "registry.not_utf8": 422,
    "registry.bad_rows": 422,
    "storage.error": 503,
    "storage.unavailable": 503,
    "storage.driver_missing": 503,
    "storage.corrupt": 503,
    "storage.needs_upgrade": 503,
    "storage.too_new": 503,
    "storage.conflict": 409,
}
"""The HTTP status of each typed error; a code missing here answers 400 (a test keeps the table complete)."""


MALFORMED = N_("the body is not JSON in UTF-8")
WRONG_TYPE = N_("expected a body of type {expected}, got {given}")
FRAMEWORK_WORDS = {
    "Not Found": N_("no such endpoint: {path}"),
    "Method Not Allowed": N_("{method} is not allowed here; this address takes {allowed}"),
    "There was an error parsing the body": MALFORMED,
}
"""The framework's own English phrases, said in the client's language with what the client can act on."""


def client_language(request: Request) -> str:
    """Japanese when the client's first choice in ``Accept-Language`` is Japanese, else English."""
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    return "ja" if first.startswith("ja") else "en"


def content_type(request: Request) -> str:
    """The media type the body is declared as, without its parameters; empty when none is."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def typed_error_response(request: Request, exc: DossierError) -> JSONResponse:
    """A typed error as an error record: its located problems (a CSV's bad rows), or its message; its code and parameters."""
    status = STATUS_BY_CODE.get(exc.code, 400)
    source = exc.location or request.url.path
    with use_language(client_language(request)):
        problems = exc.problems or [Problem(source, exc.message(), kind=KIND_BY_STATUS.get(status, "error"))]
        return problem_response(status, problems, source, code=exc.code, params=jsonable_encoder(exc.params))


def problem_response(
    status: int, problems: list[Problem], source: str, headers: dict[str, str] | None = None, code: str | None = None, params: dict[str, Any] | None = None
) -> JSONResponse:
    """The error record answering a refusal; ``code`` defaults to ``request.<kind>`` of the status."""
    record = error_record(source, problems)
    record["code"] = code or f"request.{KIND_BY_STATUS.get(status, 'error')}"
    record["params"] = params or {}
    return JSONResponse(record, status_code=status, headers=headers)


def refusal(status: int, message: str, source: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return problem_response(status, [Problem(source, message, kind=KIND_BY_STATUS.get(status, "error"))], source, headers)


def allowed_methods(request: Request) -> str:
    """Every method some route of this path answers: Starlette's own 405 names only the first route's."""
    path = request.url.path
    matching = [route for route in iter_route_contexts(request.app.routes) if getattr(route, "path_regex", None) and route.path_regex.match(path)]
    exact = [route for route in matching if route.path_format == path]  # as in OpenAPI, /screenings/batch is not /screenings/{screening_id}
    return ", ".join(sorted({method for route in exact or matching for method in route.methods or ()}))


async def http_error(request: Request, exc: Any) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else "refused"
    headers = dict(getattr(exc, "headers", None) or {})
    allowed = allowed_methods(request) if exc.status_code == 405 else ""
    if allowed:
        headers["Allow"] = allowed
    if detail in FRAMEWORK_WORDS:
        words = translate(FRAMEWORK_WORDS[detail], client_language(request))
        detail = words.format(path=request.url.path, method=request.method, allowed=allowed)
    return refusal(exc.status_code, detail, request.url.path, headers or None)


async def validation_error(request: Request, exc: Any) -> JSONResponse:
    """Parameters and JSON bodies FastAPI rejects: one problem per error, located by JSON pointer.

    A body that is not JSON at all, or is empty, is malformed (400), as on the screening routes that read their body themselves.
    """
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" or (error.get("type") == "missing" and tuple(error.get("loc", ())) == ("body",)) for error in errors):
        return refusal(400, translate(MALFORMED, client_language(request)), request.url.path)
    given = content_type(request)
    if given != "application/json" and not given.endswith("+json") and any(tuple(error.get("loc", ())) == ("body",) for error in errors):
        return refusal(415, translate(WRONG_TYPE, client_language(request)).format(expected="application/json", given=given or "none"), request.url.path)
    problems = []
    for error in errors[:100]:
        loc = [str(part) for part in error.get("loc", ())]
        where, path = (loc[0], loc[1:]) if loc else ("request", [])
        message = str(error.get("msg", "invalid"))
        problems.append(Problem(request.url.path, f"{where}: {message}", kind="invalid", pointer=pointer(path)))
    return problem_response(422, problems, request.url.path)


async def typed_error(request: Request, exc: Any) -> JSONResponse:
    return typed_error_response(request, exc)


async def storage_error(request: Request, exc: Any) -> JSONResponse:
    """The database refused: 409 for a conflict, else 503 with ``Retry-After`` (busy, full, unreachable, needs an upgrade).

    The record never names the database (its path or URL is the operator's business, not the client's).
    """
    with use_language(client_language(request)):
        if isinstance(exc, Conflict):
            return refusal(409, _("the change conflicts with stored data; reload and try again"), request.url.path)
        return refusal(
            503,
            _("the service's database is busy, out of disk space or unreachable; nothing was changed, try again later"),
            request.url.path,
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def install(app: Any) -> None:
    app.add_exception_handler(DossierError, typed_error)
    app.add_exception_handler(StorageError, storage_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
