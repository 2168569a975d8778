"""API routes for screening: one dossier, many (JSON Lines, streamed), read back, list, re-screen."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..locale import translate
from ..results import Filter
from ..services.screening import ScreeningService, Viewer, viewer
from ..services.screening_store import MAX_PAGE
from .auth import Principal, require, settings_of
from .contract import Day, Rescreening, ScreeningOut, ScreeningPage, StoredScreening, created, refusals
from .errors import WRONG_TYPE, client_language, content_type

router = APIRouter(prefix="/api/v1/screenings", tags=["screenings"])

JSON_TYPES = ("application/json",)
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines")
JSONL_TEXT = {
    "type": "string",
    "format": "binary",
    "description": "JSON Lines: one dossier per line (components/schemas/Dossier), at most the batch body limit in bytes",
    "x-jsonl-record": {"$ref": "#/components/schemas/Dossier"},
}
DOSSIER_BODY = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Dossier"}}}}
JSONL_BODY = {"required": True, "content": {media: {"schema": JSONL_TEXT} for media in JSONL_TYPES}}
BATCH_OUT = {
    "type": "string",
    "format": "binary",
    "description": "JSON Lines: one record per input line, in order: a report (components/schemas/Report) or an error record (components/schemas/ErrorRecord)",
    "x-jsonl-record": {"oneOf": [{"$ref": "#/components/schemas/Report"}, {"$ref": "#/components/schemas/ErrorRecord"}]},
}
MALFORMED_KINDS = ("syntax", "empty", "encoding")
"""Problems of the bytes rather than of the dossier: a malformed request (400), as on every JSON route."""
BODY_REFUSALS = refusals(400, 401, 403, 413, 415, 422)


def screenings_of(request: Request) -> ScreeningService:
    """The screening service on the app's store."""
    return ScreeningService(request.app.state.screenings)


def viewer_of(request: Request, who: Principal) -> Viewer:
    """Who asks, and whether the team's policy lets their role see candidates' identity."""
    return viewer(who.user.username, who.user.role, settings_of(request).names_visible_to)


def require_content_type(request: Request, accepted: tuple[str, ...]) -> None:
    """A 415 for a body declared as anything else (each route that reads its body itself)."""
    given = content_type(request)
    if given not in accepted:
        words = translate(WRONG_TYPE, client_language(request))
        raise HTTPException(415, words.format(expected=" | ".join(accepted), given=given or "none"))


class RescreenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: Day | None = Field(default=None, description="Date to evaluate as of; default: the date of the stored report")


@router.post(
    "",
    response_model=ScreeningOut,
    status_code=201,
    openapi_extra={"requestBody": DOSSIER_BODY},
    responses={**created("Screened and stored", "The stored screening: /api/v1/screenings/{screening_id}"), **BODY_REFUSALS},
)
async def screen_one(request: Request, as_of: Day | None = None, who: Principal = Depends(require("screener"))) -> Any:
    """Screen one dossier: the report, stored in the screening log under the returned id.

    A body that is not JSON is malformed (400); a JSON document that is not a valid dossier is the
    command line's error record for it (422), each problem located by a JSON pointer. Without `as_of`,
    the dossier is evaluated as of its submitted date.
    """
    require_content_type(request, JSON_TYPES)
    raw = await request.body()
    record = await run_in_threadpool(screenings_of(request).screen, raw, as_of, viewer_of(request, who))
    if "errors" in record:
        malformed = record["errors"][0]["kind"] in MALFORMED_KINDS
        code = "request.malformed" if malformed else "dossier.invalid"
        return JSONResponse({**record, "code": code, "params": {}}, status_code=400 if malformed else 422)
    sid = record["source"].removeprefix("api:")
    receipt = await run_in_threadpool(screenings_of(request).receipt, sid)
    return JSONResponse({"screening_id": sid, "report": record, "receipt": receipt}, status_code=201, headers={"Location": f"{router.prefix}/{sid}"})


@router.post(
    "/batch",
    openapi_extra={"requestBody": JSONL_BODY},
    responses={
        200: {"content": {"application/x-ndjson": {"schema": BATCH_OUT}}, "description": "One report or error record per input line, in order"},
        **BODY_REFUSALS,
    },
    response_class=StreamingResponse,
)
async def screen_many(request: Request, as_of: Day | None = None, who: Principal = Depends(require("screener"))) -> StreamingResponse:
    """Screen many dossiers (JSON Lines): one record out per record in, in order, as they are screened.

    A line that is not a valid dossier gets its error record in its place (its `source` is `body:N`,
    N the line number); the others are stored as `POST /api/v1/screenings` stores one. The answer is
    streamed a chunk of records at a time.
    """
    require_content_type(request, JSONL_TYPES)
    body = await request.body()
    return StreamingResponse(screenings_of(request).screen_many(body, as_of, viewer_of(request, who)), media_type="application/x-ndjson")


@router.get("", response_model=ScreeningPage, response_model_exclude_unset=True, responses=refusals(401, 403, 422))
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
    submitted_from: Day | None = None,
    submitted_to: Day | None = None,
    screened_from: Day | None = None,
    screened_to: Day | None = None,
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


@router.get("/{screening_id}", response_model=StoredScreening, response_model_exclude_unset=True, responses=refusals(401, 403, 404))
def read_screening(screening_id: str, request: Request, who: Principal = Depends(require("screener"))) -> dict[str, Any]:
    """A stored screening: who, when, the dossier (or only its SHA-256), the report, the pack and registry hashes."""
    return screenings_of(request).stored(screening_id, viewer_of(request, who))


@router.post(
    "/{screening_id}/rescreen", response_model=Rescreening, response_model_exclude_unset=True, responses=refusals(400, 401, 403, 404, 409, 413, 415, 422)
)
def rescreen(screening_id: str, request: Request, body: RescreenRequest | None = None, who: Principal = Depends(require("screener"))) -> Any:
    """Screen a stored dossier again with the packs and registries loaded now: old and new reports, and what changed."""
    service = screenings_of(request)
    result = service.rescreen(screening_id, body.as_of if body else None, viewer_of(request, who))
    if "screening_id" in result:
        result["receipt"] = service.receipt(result["screening_id"])
    return result
