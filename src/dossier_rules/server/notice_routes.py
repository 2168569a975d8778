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
from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from .. import sharing
from ..locale import use_language
from ..services.notices import MAX_BUILD, NoticeService, Reviewer
from .auth import Principal, require
from .errors import client_language

router = APIRouter(prefix="/api/v1/notices", tags=["notices"])
MAX_IDS = 100
MEDIA = {"json": "application/json", "html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}
REFUSALS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 409: {}}
State = Literal["draft", "approved", "exported"]


@contextmanager
def notices_of(request: Request) -> Iterator[NoticeService]:
    """The notice service on the service's database (its outbox tables, its log)."""
    state = request.app.state
    box = sharing.Outbox(state.db)
    try:
        yield NoticeService(box, state.db)
    finally:
        box.close()


def reviewer(who: Principal) -> Reviewer:
    return Reviewer(who.user.username, who.user.display_name)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BuildRequest(_In):
    screening_ids: list[str] = Field(min_length=1, max_length=MAX_BUILD)


class ApproveMany(_In):
    ids: list[str] = Field(min_length=1, max_length=MAX_IDS)


@router.post("/build", responses=REFUSALS)
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


@router.get("", responses=REFUSALS)
def list_notices(
    request: Request,
    state: list[State] = Query(default=[]),
    country: list[str] = Query(default=[], max_length=20),
    act: list[str] = Query(default=[], max_length=20),
    intermediary: list[str] = Query(default=[], max_length=20, description="The party a notice is about: its id, or its name"),
    created_from: date | None = None,
    created_to: date | None = None,
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


@router.get("/{notice_id}", responses={**REFUSALS, 200: {"content": {m.split(";")[0]: {} for m in MEDIA.values()}}})
def show(notice_id: str, request: Request, format: Literal["json", "html", "md"] = "json", who: Principal = Depends(require("reviewer"))) -> Response:
    """One notice in any state, for review; nothing is exported. The HTML and Markdown previews of a draft say so, and are logged."""
    with notices_of(request) as service:
        if format == "json":
            text = sharing.render(service.notice(notice_id), "json")
        else:
            text = service.preview(notice_id, format, reviewer(who))
    return Response(text, media_type=MEDIA[format])


@router.post("/{notice_id}/approve", responses=REFUSALS)
def approve(notice_id: str, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Approve a draft notice in the approver's name; the approval is logged. A notice is approved once."""
    with notices_of(request) as service:
        notice = service.approve(notice_id, reviewer(who))
    return notice.model_dump(mode="json")


@router.post("/approve", responses=REFUSALS)
def approve_many(body: ApproveMany, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Approve several drafts, each on its own: what was approved, and why the others were not."""
    with notices_of(request) as service:
        outcome = service.approve_many(body.ids, reviewer(who))
    lang = client_language(request)
    return {"approved": outcome.approved, "refused": [{"id": nid, "reason": exc.message(lang)} for nid, exc in outcome.refused]}


@router.post("/{notice_id}/export", responses={**REFUSALS, 200: {"content": {m.split(";")[0]: {} for m in MEDIA.values()}}})
def export(notice_id: str, request: Request, format: Literal["json", "html", "md"] = "json", who: Principal = Depends(require("reviewer"))) -> Response:
    """Export an approved notice (JSON, printable HTML, Markdown); every export is logged."""
    with notices_of(request) as service:
        notice = service.export(notice_id, request.app.state.engine.packset, datetime.now(UTC).date(), format, reviewer(who))
    return Response(sharing.render(notice, format), media_type=MEDIA[format])
