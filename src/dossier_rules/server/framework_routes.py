"""API routes of the information-sharing framework: a notice's life after approval, its history, and the inbox.

Thin adapters over :class:`dossier_rules.services.notices.NoticeService` (send,
answer, close, withdraw: each one logged through its one gate) and
:mod:`dossier_rules.services.framework` (received communications). Refusals
are typed errors, answered with the status
:data:`dossier_rules.server.errors.STATUS_BY_CODE` gives them.

Due periods for partners' results: ``DOSSIER_RULES_DUE_DAYS`` (``PH=60,VN=90``),
90 days for a partner not named.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..engine import Engine
from ..framework import japan, life
from ..framework.inbox import MAX_COMMUNICATION_BYTES
from ..services import briefs
from ..services import framework as inbox_service
from ..services.screening import use_registries
from .auth import Principal, require
from .catalog_routes import workspace_of
from .contract import Day, refusals
from .notice_routes import notices_of, reviewer
from .screening_routes import require_content_type

REFUSALS = refusals(400, 401, 403, 404, 409, 413, 415, 422)
"""What a framework route can answer besides its result: each an error record."""

router = APIRouter(prefix="/api/v1/framework", tags=["framework"])


class _FrameworkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SendRequest(_FrameworkRequest):
    how: life.SendHow


class CloseRequest(_FrameworkRequest):
    note: str = Field(default="", max_length=life.MAX_TEXT)


class WithdrawRequest(_FrameworkRequest):
    reason: str = Field(min_length=1, max_length=life.MAX_TEXT)


def _today() -> date:
    return datetime.now(UTC).date()


@router.get("/open", responses=REFUSALS)
def open_notices(
    request: Request, country: list[str] = Query(default=[], max_length=20), who: Principal = Depends(require("reviewer"))
) -> list[dict[str, Any]]:
    """Notices not closed or withdrawn (at most 1000), by partner and state, overdue first, with the days each waited before it was sent."""
    with notices_of(request) as service:
        return service.open_notices(frozenset(c.upper() for c in country), life.configured_due_periods(), _today())


@router.get("/notices/{notice_id}/history", responses=REFUSALS)
def history(notice_id: str, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """A notice's whole life: created, approved, exported, sent, answered, closed or withdrawn, each by whom and when."""
    with notices_of(request) as service:
        return service.history(notice_id)


@router.post("/notices/{notice_id}/send", responses=REFUSALS)
def send(notice_id: str, body: SendRequest, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Mark an approved notice sent to the partner, and how; refused while the partner's MOC is not in force."""
    with notices_of(request) as service:
        service.send(notice_id, body.how, request.app.state.engine.packset, _today(), reviewer(who))
        return service.history(notice_id)


@router.post("/notices/{notice_id}/answer", responses=REFUSALS)
def answer(notice_id: str, body: life.Answer, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Record the partner's result of a sent notice: its text, date, reference and what the partner did."""
    with notices_of(request) as service:
        service.answer(notice_id, body, reviewer(who))
        return service.history(notice_id)


@router.post("/notices/{notice_id}/close", responses=REFUSALS)
def close(notice_id: str, body: CloseRequest, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Close an answered notice (or a sent one that expects no result)."""
    with notices_of(request) as service:
        service.close(notice_id, reviewer(who), body.note)
        return service.history(notice_id)


@router.post("/notices/{notice_id}/withdraw", responses=REFUSALS)
def withdraw(notice_id: str, body: WithdrawRequest, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Withdraw a notice not yet answered, with a reason (kept with the notice, not in the log)."""
    with notices_of(request) as service:
        service.withdraw(notice_id, body.reason, reviewer(who))
        return service.history(notice_id)


@router.get("/inbox", responses=REFUSALS)
def inbox(request: Request, country: list[str] = Query(default=[], max_length=20), who: Principal = Depends(require("reviewer"))) -> list[dict[str, Any]]:
    """Communications received from partners (at most 1000, newest first), without the personal data they carried."""
    with notices_of(request) as service:
        return inbox_service.listing(service, frozenset(c.upper() for c in country))


@router.post(
    "/inbox",
    responses=REFUSALS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The communication received (docs: the inbox's kinds and fields)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def receive(request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Record a communication received from a partner (JSON, at most 256 KiB), validated whole: refused with every problem, nothing recorded.

    A revocation or an accreditation updates the partner's list of accredited agencies, and 4(1) information about an
    intermediary (``intermediary_report``) or its withdrawal (``report_withdrawal``) the partner's list
    ``intermediary-reports``: screening uses either at once.
    """
    require_content_type(request, ("application/json",))
    data = await request.body()
    if len(data) > MAX_COMMUNICATION_BYTES:
        data = data[: MAX_COMMUNICATION_BYTES + 1]  # the service refuses it whole, naming the limit
    workspace = workspace_of(request)
    packset = request.app.state.engine.packset
    with notices_of(request) as service:
        received = await run_in_threadpool(inbox_service.receive, service, packset, workspace.registries_dir, data, "body", reviewer(who), _today())
    if received.registry is not None:
        await run_in_threadpool(use_registries, request.app.state, workspace.registries_dir)
    return {"id": received.id, "kind": received.kind, "notice_id": received.notice_id}


@router.get("/agenda/{country}", responses=REFUSALS)
def agenda(
    country: str, request: Request, start: Day = Query(alias="from"), end: Day = Query(alias="to"), who: Principal = Depends(require("reviewer"))
) -> dict[str, Any]:
    """The agenda of a 4(2) consultation with one partner for a period (at most about ten years): the topics (a)-(f) with the numbers under each."""
    with notices_of(request) as service:
        return inbox_service.agenda(service, country.upper(), start, end, life.configured_due_periods(), _today())


@router.get("/brief/{country}", responses=REFUSALS)
def brief(
    country: str, request: Request, start: Day = Query(alias="from"), end: Day = Query(alias="to"), who: Principal = Depends(require("reviewer"))
) -> dict[str, Any]:
    """The consultation brief of one partner for a period (at most 366 days): findings by act and month, top intermediaries, notices, inquiries, changes since the previous period."""
    with notices_of(request) as service:
        return briefs.brief(service, request.app.state.engine.packset, country.upper(), start, end, life.configured_due_periods(), _today())


class Period(_FrameworkRequest):
    start: Day = Field(alias="from")
    end: Day = Field(alias="to")


class InquiryRequest(_FrameworkRequest):
    country: str = Field(pattern=r"^[A-Za-z]{2}$")
    subject: str = Field(min_length=1, max_length=life.MAX_TEXT)
    due_days: int = Field(default=life.DEFAULT_DUE_DAYS, ge=1, le=3650)
    screening_id: str = Field(default="", max_length=100, description="The stored screening the inquiry comes from (optional)")


class DispatchChange(_FrameworkRequest):
    how: life.SendHow = "other"
    text: str = Field(default="", max_length=life.MAX_TEXT)
    reference: str = Field(default="", max_length=200)
    reason: str = Field(default="", max_length=life.MAX_TEXT)


@router.get("/improvement-orders", responses=REFUSALS)
def improvement_orders(
    request: Request, start: Day = Query(alias="from"), end: Day = Query(alias="to"), who: Principal = Depends(require("reviewer"))
) -> dict[str, Any]:
    """Preview the notices of improvement orders first listed in the period (KH 6(4); LA, KG, TJ 6(3)), and the partners held back."""
    engine: Engine = request.app.state.engine
    found = japan.improvement_order_notices(engine.packset, engine.registries, start, end, _today())
    return {"notices": found.notices, "held_back": found.held_back}


@router.post("/japan/orders", responses=REFUSALS)
def draft_orders(body: Period, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Draft the notices of improvement orders first listed in the period; drafting the same again creates nothing."""
    engine: Engine = request.app.state.engine
    with notices_of(request) as service:
        found = inbox_service.draft_orders(service, engine.packset, engine.registries, body.start, body.end, reviewer(who), _today())
    return {"notices": found.notices, "held_back": found.held_back}


@router.post("/japan/inquiries", responses=REFUSALS)
def draft_inquiry(body: InquiryRequest, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Draft an inquiry to a partner (KH 5(7); LA, KG, TJ 7(6)), with the days it is given to answer."""
    with notices_of(request) as service:
        did = inbox_service.draft_inquiry(
            service,
            request.app.state.engine.packset,
            body.country.upper(),
            body.subject,
            body.due_days,
            reviewer(who),
            request.app.state.screenings,
            body.screening_id,
        )
        return inbox_service.dispatch_view(service, did, _today())


@router.get("/japan", responses=REFUSALS)
def dispatches(request: Request, country: list[str] = Query(default=[], max_length=20), who: Principal = Depends(require("reviewer"))) -> list[dict[str, Any]]:
    """Japan's own notices (at most 1000), overdue inquiries first."""
    with notices_of(request) as service:
        return inbox_service.dispatches(service, frozenset(c.upper() for c in country), _today())


@router.post("/japan/{dispatch_id}/{action}", responses=REFUSALS)
def change_dispatch(
    dispatch_id: str,
    action: Literal["approve", "send", "answer", "close", "withdraw"],
    body: DispatchChange,
    request: Request,
    who: Principal = Depends(require("reviewer")),
) -> dict[str, Any]:
    """Approve, send, answer, close or withdraw one of Japan's own notices; each change is logged."""
    data = {"how": body.how} if action == "send" else {"text": body.text, "reference": body.reference} if action == "answer" else {"reason": body.reason}
    with notices_of(request) as service:
        return inbox_service.change_dispatch(service, dispatch_id, action, reviewer(who), request.app.state.engine.packset, _today(), **data)


class ReplyRequest(_FrameworkRequest):
    reference: str = Field(min_length=1, max_length=200)


@router.get("/inquiries", responses=REFUSALS)
def inquiries(request: Request, country: list[str] = Query(default=[], max_length=20), who: Principal = Depends(require("reviewer"))) -> list[dict[str, Any]]:
    """Inquiries received from partners (at most 1000), unanswered first by due date, each with whether it is overdue."""
    with notices_of(request) as service:
        return inbox_service.inquiries(service, request.app.state.engine.packset, frozenset(c.upper() for c in country), _today())


@router.post("/inquiries/{received_id}/reply", responses=REFUSALS)
def reply(received_id: str, body: ReplyRequest, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Record that Japan answered a partner's inquiry (KH 6(5); LA, KG, TJ 6(4)); logged."""
    with notices_of(request) as service:
        inbox_service.reply(service, received_id, body.reference, reviewer(who))
    return {"id": received_id, "answered": True}
