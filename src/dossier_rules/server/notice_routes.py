"""API routes for information-sharing notices: build from stored screenings, list, show, approve, export.

Thin adapters over :class:`dossier_rules.services.notices.NoticeService`: the
notices are :mod:`dossier_rules.sharing`'s, in its outbox tables inside the
service's database; the service writes every approval, export and preview to
the screening log in the same transaction. Refusals are typed errors, answered
with the status :data:`dossier_rules.server.errors.STATUS_BY_CODE` gives them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from .. import sharing
from ..formats import NOTICE_FORMATS, PRINTED_NAMES, NoticeFormat, PrintedNoticeFormat
from ..locale import use_language
from ..services import receipts
from ..services.notices import MAX_BUILD, NoticeService, Reviewer
from .auth import Principal, require
from .contract import Day, refusals
from .errors import client_language

router = APIRouter(prefix="/api/v1/notices", tags=["notices"])
MAX_IDS = 100
TEXT = {"type": "string"}
PRINTED = {NOTICE_FORMATS[name].content_type: {"schema": TEXT} for name in PRINTED_NAMES}
PREVIEWS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The notice as a printable HTML page or as Markdown (a draft's says it is one)",
        "content": PRINTED,
    }
}
RECEIPT_HEADER = {
    receipts.HEADER: {
        "description": "The log receipt of this change: base64url (no padding) of its JSON (components/schemas/Receipt); check it with `dossier-rules log check-receipt`",
        "schema": {"type": "string"},
    }
}
EXPORTS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The exported notice: the file to send",
        "content": PRINTED,
        "headers": RECEIPT_HEADER,
    }
}
LOGGED: dict[int | str, dict[str, Any]] = {200: {"description": "The notice, changed and logged", "headers": RECEIPT_HEADER}}
State = Literal["draft", "approved", "exported"]


@contextmanager
def notices_of(request: Request) -> Iterator[NoticeService]:
    """The notice service on the service's database (its outbox tables, its log)."""
    state = request.app.state
    box = sharing.Outbox(state.db)
    try:
        yield NoticeService(box, state.db, log_key=state.log_key)
    finally:
        box.close()


def reviewer(who: Principal) -> Reviewer:
    return Reviewer(who.user.username, who.user.display_name)


class _NoticeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BuildRequest(_NoticeRequest):
    screening_ids: list[str] = Field(min_length=1, max_length=MAX_BUILD)


class ApproveMany(_NoticeRequest):
    ids: list[str] = Field(min_length=1, max_length=MAX_IDS)


class _NoticeAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BuildProblem(_NoticeAnswer):
    """A screening that could not be read into notices (its id as ``source``), and why."""

    source: str
    kind: str
    message: str
    pointer: str | None = None
    line: int | None = None
    rule: str | None = None


class HeldBack(_NoticeAnswer):
    """Findings of one report not turned into notices: its MOC was not in force on its as-of date."""

    source: str
    dossier_id: str
    country: str
    state: str
    findings: int


class Built(_NoticeAnswer):
    created: list[str] = Field(description="Ids of the notices drafted")
    extended: list[str] = Field(description="Ids of drafts that received more findings")
    duplicates: int = Field(description="Findings already in a notice")
    problems: list[BuildProblem]
    held_back: list[HeldBack]


class NoticeSummary(_NoticeAnswer):
    id: str
    country: str
    act: str
    state: State
    dossiers: int
    findings: int
    created_at: str
    approved_by: str | None
    approved_at: str | None
    exported_at: str | None


class Refused(_NoticeAnswer):
    id: str
    reason: str = Field(description="Why, in the caller's language (no server detail)")
    code: str = Field(description="The typed error's code, e.g. notice.not_found")


class ApprovedMany(_NoticeAnswer):
    approved: list[str]
    refused: list[Refused]


@router.post("/build", response_model=Built, responses=refusals(400, 401, 403, 413, 415, 422))
def build(body: BuildRequest, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Turn the share-marked findings of stored screenings into draft notices (as `share build`; no personal data)."""
    state = request.app.state
    with notices_of(request) as service, use_language(client_language(request)):
        result = service.build_from_screenings(state.engine.packset, state.screenings, body.screening_ids)
    return {
        "created": result.created,
        "extended": result.extended,
        "duplicates": result.duplicates,
        "problems": [{"source": p.source, **p.to_json()} for p in result.problems],
        "held_back": [vars(h) for h in result.held_back],
    }


@router.get("", response_model=list[NoticeSummary], responses=refusals(401, 403, 422))
def list_notices(
    request: Request,
    state: list[State] = Query(default=[]),
    country: list[str] = Query(default=[], max_length=20),
    act: list[str] = Query(default=[], max_length=20),
    intermediary: list[str] = Query(default=[], max_length=20, description="The party a notice is about: its id, or its name"),
    created_from: Day | None = None,
    created_to: Day | None = None,
    who: Principal = Depends(require("reviewer")),
) -> list[dict[str, Any]]:
    """Notices in the outbox, filtered as `share list` filters them (each filter repeatable; filtered by the notice store)."""
    chosen = sharing.NoticeFilter(
        countries=frozenset(c.upper() for c in country),
        acts=frozenset(act),
        states=frozenset(state),
        intermediaries=frozenset(intermediary),
        created_from=created_from,
        created_to=created_to,
    )
    with notices_of(request) as service:
        return service.listing(chosen)


@router.get("/{notice_id}", response_model=sharing.Notice, responses=refusals(401, 403, 404))
def show(notice_id: str, request: Request, who: Principal = Depends(require("reviewer"))) -> Response:
    """One notice in any state, for review (components/schemas/Notice); nothing is exported."""
    with notices_of(request) as service:
        text = sharing.render(service.notice(notice_id), "json")
    return Response(text, media_type=NOTICE_FORMATS["json"].media_type)


@router.get("/{notice_id}/preview", response_class=Response, responses={**PREVIEWS, **refusals(401, 403, 404, 422)})
def preview(notice_id: str, request: Request, format: PrintedNoticeFormat = "html", who: Principal = Depends(require("reviewer"))) -> Response:
    """One notice as it would print, for review; nothing is exported. The preview of a draft says so, and is logged."""
    with notices_of(request) as service:
        text = service.preview(notice_id, format, reviewer(who))
    return Response(text, media_type=NOTICE_FORMATS[format].media_type)


@router.post("/{notice_id}/approve", response_model=sharing.Notice, responses={**LOGGED, **refusals(401, 403, 404, 409)})
def approve(notice_id: str, request: Request, who: Principal = Depends(require("reviewer"))) -> JSONResponse:
    """Approve a draft notice in the approver's name; the approval is logged. A notice is approved once."""
    with notices_of(request) as service:
        notice = service.approve(notice_id, reviewer(who))
        receipt = service.receipt()
    return JSONResponse(notice.model_dump(mode="json"), headers=_receipt_header(receipt))


@router.post("/approve", response_model=ApprovedMany, responses=refusals(400, 401, 403, 413, 415, 422))
def approve_many(body: ApproveMany, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Approve several drafts, each on its own: what was approved, and why the others were not."""
    with notices_of(request) as service:
        outcome = service.approve_many(body.ids, reviewer(who))
    lang = client_language(request)
    return {"approved": outcome.approved, "refused": [{"id": nid, "reason": exc.message(lang), "code": exc.code} for nid, exc in outcome.refused]}


@router.post("/{notice_id}/export", response_class=Response, responses={**EXPORTS, **refusals(401, 403, 404, 409, 422)})
def export(notice_id: str, request: Request, format: PrintedNoticeFormat = "html", who: Principal = Depends(require("reviewer"))) -> Response:
    """Export an approved notice as a printable HTML page or as Markdown (the JSON form: `export/json`); every export is logged.

    Refused (409) for a draft, and when the MOC of the notice's country is not in force today.
    """
    return _exported(notice_id, request, format, who)


@router.post("/{notice_id}/export/json", response_model=sharing.Notice, responses={**LOGGED, **refusals(401, 403, 404, 409)})
def export_json(notice_id: str, request: Request, who: Principal = Depends(require("reviewer"))) -> Response:
    """Export an approved notice in its JSON form (components/schemas/Notice); every export is logged.

    Refused (409) for a draft, and when the MOC of the notice's country is not in force today.
    """
    return _exported(notice_id, request, "json", who)


def _exported(notice_id: str, request: Request, format: NoticeFormat, who: Principal) -> Response:
    """One export, in one format: a document answer of its own media type (each format is one operation's answer)."""
    with notices_of(request) as service:
        notice = service.export(notice_id, request.app.state.engine.packset, datetime.now(UTC).date(), format, reviewer(who))
        receipt = service.receipt()
    return Response(sharing.render(notice, format), media_type=NOTICE_FORMATS[format].media_type, headers=_receipt_header(receipt))


def _receipt_header(receipt: dict[str, Any] | None) -> dict[str, str]:
    """The change's log receipt as a header (the body is the notice or its document)."""
    return {receipts.HEADER: receipts.header_value(receipt)} if receipt is not None else {}
