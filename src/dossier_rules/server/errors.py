"""Every refusal of the service is an error record, the same shape the CLI writes for a bad input.

``{"source": ..., "errors": [{"kind", "message", "pointer", "line", "rule"}]}``
(``schemas/error-record.schema.json``): a client handles one shape whether a
dossier was invalid, a body too large, or a role missing.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..batch import error_record
from ..sources import Problem, pointer
from ..storage import Conflict, StorageError

RETRY_AFTER_SECONDS = 5
"""What a 503 from a busy or unreachable database tells the client to wait."""

KIND_BY_STATUS = {
    400: "bad_request",
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


def problem_response(status: int, problems: list[Problem], source: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_record(source, problems), status_code=status, headers=headers)


def refusal(status: int, message: str, source: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return problem_response(status, [Problem(source, message, kind=KIND_BY_STATUS.get(status, "error"))], source, headers)


async def http_error(request: Request, exc: Any) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else "refused"
    return refusal(exc.status_code, detail, request.url.path, getattr(exc, "headers", None))


async def validation_error(request: Request, exc: Any) -> JSONResponse:
    """Parameters and JSON bodies FastAPI rejects: one problem per error, located by JSON pointer."""
    problems = []
    for error in exc.errors()[:100]:
        loc = [str(part) for part in error.get("loc", ())]
        where, path = (loc[0], loc[1:]) if loc else ("request", [])
        message = str(error.get("msg", "invalid"))
        problems.append(Problem(request.url.path, f"{where}: {message}", kind="invalid", pointer=pointer(path)))
    return problem_response(422, problems, request.url.path)


async def storage_error(request: Request, exc: Any) -> JSONResponse:
    """The database refused: 409 for a conflict, else 503 with ``Retry-After`` (busy, full, unreachable, needs an upgrade)."""
    if isinstance(exc, Conflict):
        return refusal(409, "the change conflicts with stored data; reload and try again", request.url.path)
    return refusal(503, "the service's database cannot be used now; try again later", request.url.path, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def install(app: Any) -> None:
    app.add_exception_handler(StorageError, storage_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
