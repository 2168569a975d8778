"""API routes for screening: one dossier, many (JSON Lines, streamed), read back, list, re-screen."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..results import Filter
from ..services.screening import ScreeningService, Viewer, viewer
from .auth import Principal, require, settings_of
from .screenings import MAX_PAGE

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


def screenings_of(request: Request) -> ScreeningService:
    """The screening service on the app's store."""
    return ScreeningService(request.app.state.screenings)


def viewer_of(request: Request, who: Principal) -> Viewer:
    """Who asks, and whether the team's policy lets their role see candidates' identity."""
    return viewer(who.user.username, who.user.role, settings_of(request).names_visible_to)


def require_content_type(request: Request, accepted: tuple[str, ...]) -> None:
    given = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if given not in accepted:
        raise HTTPException(415, f"expected a body of type {' or '.join(accepted)}, got {given or 'none'}")


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
    record = await run_in_threadpool(screenings_of(request).screen, raw, as_of, viewer_of(request, who))
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
    return StreamingResponse(screenings_of(request).screen_many(body, as_of, viewer_of(request, who)), media_type="application/x-ndjson")


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
    """Summaries of stored screenings, newest first, filtered as `dossier-rules report` filters results; the full record by id."""
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
    items, cursor = screenings_of(request).summaries(chosen, user, screened_from, screened_to, after, limit)
    return ScreeningPage(items=items, next=cursor)


@router.get("/{screening_id}", responses={401: {}, 403: {}, 404: {}})
def read_screening(screening_id: str, request: Request, who: Principal = Depends(require("screener"))) -> dict[str, Any]:
    """A stored screening: who, when, the dossier (or only its SHA-256), the report, the pack and registry hashes."""
    return screenings_of(request).stored(screening_id, viewer_of(request, who))


@router.post("/{screening_id}/rescreen", responses={401: {}, 403: {}, 404: {}, 409: {}})
def rescreen(screening_id: str, request: Request, body: RescreenRequest | None = None, who: Principal = Depends(require("screener"))) -> Any:
    """Screen a stored dossier again with the packs and registries loaded now: old and new reports, and what changed."""
    return screenings_of(request).rescreen(screening_id, body.as_of if body else None, viewer_of(request, who))
