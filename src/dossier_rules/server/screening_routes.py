"""API routes for screening: one dossier, many (JSON Lines, streamed), read back, list, re-screen."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ..packs import PackSet
from ..results import Filter
from ..sources import Problem
from .auth import Principal, require, settings_of
from .errors import problem_response
from .screenings import MAX_PAGE, NotFound, Screenings, redact, redact_report

router = APIRouter(prefix="/api/v1/screenings", tags=["screenings"])

JSON_TYPES = ("application/json",)
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines")
DOSSIER_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"type": "object", "description": "A dossier (schemas/dossier.schema.json)"}}},
}
JSONL_BODY = {
    "required": True,
    "content": {"application/x-ndjson": {"schema": {"type": "string", "description": "Dossiers, one JSON document per line"}}},
}
REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed JSON"},
    401: {},
    403: {},
    413: {},
    415: {},
    422: {"description": "Not a valid dossier: the CLI's error record"},
}


def screenings_of(request: Request) -> Screenings:
    screenings: Screenings = request.app.state.screenings
    return screenings


def require_content_type(request: Request, accepted: tuple[str, ...]) -> None:
    given = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if given not in accepted:
        raise HTTPException(415, f"expected a body of type {' or '.join(accepted)}, got {given or 'none'}")


def _may_see_names(request: Request, who: Principal) -> bool:
    return who.user.role in settings_of(request).names_visible_to


def _packs(request: Request) -> PackSet:
    """The packs loaded: their message templates say which values of a message to withhold."""
    return screenings_of(request).engine.packset


class ScreeningOut(BaseModel):
    screening_id: str
    report: dict[str, Any] = Field(description="The report (schemas/report.schema.json)")


class RescreenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date | None = Field(default=None, description="Date to evaluate as of; default: the date of the stored report")


class ScreeningPage(BaseModel):
    items: list[dict[str, Any]]
    next: str | None = Field(description="Pass as ?after= to get the next page; null on the last page")


@router.post("", response_model=ScreeningOut, status_code=201, openapi_extra={"requestBody": DOSSIER_BODY}, responses=REFUSALS)
async def screen_one(request: Request, as_of: date | None = None, who: Principal = Depends(require("screener"))) -> Any:
    """Screen one dossier: the report, stored in the screening log under the returned id."""
    require_content_type(request, JSON_TYPES)
    raw = await request.body()
    record = await _in_thread(screenings_of(request).screen, raw, as_of, who.user.username)
    if "errors" in record:
        status = 400 if record["errors"][0]["kind"] in ("syntax", "empty") else 422
        return JSONResponse(record, status_code=status)
    return JSONResponse({"screening_id": record["source"].removeprefix("api:"), "report": record}, status_code=201)


@router.post(
    "/batch",
    openapi_extra={"requestBody": JSONL_BODY},
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "One report or error record per input line, in order"}, **REFUSALS},
    response_class=StreamingResponse,
)
async def screen_many(request: Request, as_of: date | None = None, who: Principal = Depends(require("screener"))) -> StreamingResponse:
    """Screen many dossiers (JSON Lines): one record out per record in, in order, as they are screened."""
    require_content_type(request, JSONL_TYPES)
    body = await request.body()
    return StreamingResponse(screenings_of(request).screen_many(body, as_of, who.user.username), media_type="application/x-ndjson")


@router.get("", response_model=ScreeningPage, responses={401: {}, 403: {}})
def list_screenings(
    request: Request,
    country: list[str] = Query(default=[], max_length=20),
    kind: list[Literal["candidate", "broker"]] = Query(default=[]),
    outcome: list[Literal["blocked", "review", "clear", "not_in_force"]] = Query(default=[]),
    severity: list[Literal["block", "warn", "info"]] = Query(default=[]),
    rule: list[str] = Query(default=[], max_length=50),
    article: list[str] = Query(default=[], max_length=50),
    intermediary: list[str] = Query(default=[], max_length=50),
    sector: list[str] = Query(default=[], max_length=20),
    submitted_from: date | None = None,
    submitted_to: date | None = None,
    screened_from: date | None = None,
    screened_to: date | None = None,
    user: str | None = Query(default=None, max_length=64),
    after: str | None = Query(default=None, max_length=20, description="Cursor: the `next` of the previous page"),
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    who: Principal = Depends(require("screener")),
) -> ScreeningPage:
    """Stored screenings, newest first, filtered as `dossier-rules report` filters results."""
    chosen = Filter.of(
        countries=[c.upper() for c in country],
        kinds=kind,
        outcomes=outcome,
        severities=severity,
        rules=rule,
        articles=article,
        intermediaries=intermediary,
        sectors=sector,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
    )
    items, cursor = screenings_of(request).listing(chosen, user, screened_from, screened_to, after, limit)
    if not _may_see_names(request, who):
        items = [redact(item, _packs(request)) for item in items]
    return ScreeningPage(items=items, next=cursor)


@router.get("/{screening_id}", responses={401: {}, 403: {}, 404: {}})
def read_screening(screening_id: str, request: Request, who: Principal = Depends(require("screener"))) -> dict[str, Any]:
    """A stored screening: who, when, the dossier (or only its SHA-256), the report, the pack and registry hashes."""
    try:
        stored = screenings_of(request).stored(screening_id)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return stored if _may_see_names(request, who) else redact(stored, _packs(request))


@router.post("/{screening_id}/rescreen", responses={401: {}, 403: {}, 404: {}, 409: {}})
def rescreen(screening_id: str, request: Request, body: RescreenRequest | None = None, who: Principal = Depends(require("screener"))) -> Any:
    """Screen a stored dossier again with the packs and registries loaded now: old and new reports, and what changed."""
    try:
        result = screenings_of(request).rescreen(screening_id, body.as_of if body else None, who.user.username)
    except NotFound as exc:
        status = 409 if "no-store-dossiers" in str(exc) else 404
        return problem_response(status, [Problem(request.url.path, str(exc), kind="conflict" if status == 409 else "not_found")], request.url.path)
    if not _may_see_names(request, who):
        result["old"], result["new"] = redact_report(result["old"], _packs(request)), redact_report(result["new"], _packs(request))
        if result["changes"]:
            for side in ("added", "removed"):
                result["changes"][side] = redact_report({"findings": result["changes"][side]}, _packs(request))["findings"]
    return result


async def _in_thread(fn: Any, *args: Any) -> Any:
    """Screening and SQLite writes block: run them off the event loop."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)
