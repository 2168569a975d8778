"""API routes for information-sharing notices: build from stored screenings, list, show, approve, export.

The notices are :mod:`dossier_rules.sharing`'s, in its outbox tables inside
the service's database; approving and exporting go through the outbox's own
gate (a draft is approved once; only approved notices leave), and each is
written to the screening log in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from .. import sharing
from ..report import Report
from ..sources import Problem
from . import screening_log
from .auth import Principal, require
from .screenings import NotFound

router = APIRouter(prefix="/api/v1/notices", tags=["notices"])
MAX_IDS = 100
MEDIA = {"json": "application/json", "html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}
REFUSALS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 409: {}}


@contextmanager
def outbox(request: Request) -> Iterator[sharing.Outbox]:
    box = sharing.Outbox(request.app.state.db)
    try:
        yield box
    finally:
        box.close()


def _logging(kind: str, who: Principal, **extra: Any) -> sharing.Recorder:
    def record(conn: Connection, nid: str) -> None:
        screening_log.append(conn, kind, who.user.username, {"notice_id": nid, **extra})

    return record


def _refused(exc: sharing.OutboxError) -> HTTPException:
    return HTTPException(404 if str(exc).startswith("no notice") else 409, str(exc))


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BuildRequest(_In):
    screening_ids: list[str] = Field(min_length=1, max_length=500)


class ApproveMany(_In):
    ids: list[str] = Field(min_length=1, max_length=MAX_IDS)


@router.post("/build", responses=REFUSALS)
def build(body: BuildRequest, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Turn the share-marked findings of stored screenings into draft notices (as `share build`; no personal data)."""
    screenings = request.app.state.screenings

    def reports() -> Iterator[tuple[str, Report | list[Problem]]]:
        for sid in dict.fromkeys(body.screening_ids):
            try:
                yield sid, Report.model_validate(screenings.stored(sid)["report"])
            except NotFound as exc:
                yield sid, [Problem(sid, str(exc), kind="not_found")]

    with outbox(request) as box:
        result = box.add_reports(request.app.state.engine.packset, reports())
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
    state: Literal["draft", "approved", "exported"] | None = None,
    country: str | None = Query(default=None, max_length=2),
    act: str | None = Query(default=None, max_length=20),
    who: Principal = Depends(require("reviewer")),
) -> list[dict[str, Any]]:
    """Notices in the outbox, filtered by state, country and act."""
    with outbox(request) as box:
        rows = [dict(r) for r in box.notices(state)]
    fields = ("id", "country", "act", "state", "dossiers", "findings", "created_at", "approved_by", "approved_at", "exported_at")
    return [{k: r[k] for k in fields} for r in rows if (country is None or r["country"] == country.upper()) and (act is None or r["act"] == act)]


@router.get("/{notice_id}", responses={**REFUSALS, 200: {"content": {m.split(";")[0]: {} for m in MEDIA.values()}}})
def show(notice_id: str, request: Request, format: Literal["json", "html", "md"] = "json", who: Principal = Depends(require("reviewer"))) -> Response:
    """One notice in any state, for review; nothing is exported."""
    with outbox(request) as box:
        try:
            notice = box.notice(notice_id)
        except sharing.OutboxError as exc:
            raise _refused(exc) from None
    return Response(sharing.render(notice, format), media_type=MEDIA[format])


@router.post("/{notice_id}/approve", responses=REFUSALS)
def approve(notice_id: str, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Approve a draft notice in the approver's name; the approval is logged. A notice is approved once."""
    with outbox(request) as box:
        try:
            notice = box.approve(notice_id, who.user.display_name, then=_logging("notice_approved", who, by=who.user.display_name))
        except sharing.OutboxError as exc:
            raise _refused(exc) from None
    return notice.model_dump(mode="json")


@router.post("/approve", responses=REFUSALS)
def approve_many(body: ApproveMany, request: Request, who: Principal = Depends(require("reviewer"))) -> dict[str, Any]:
    """Approve several drafts, each on its own: what was approved, and why the others were not."""
    approved, refused = [], []
    with outbox(request) as box:
        for nid in dict.fromkeys(body.ids):
            try:
                box.approve(nid, who.user.display_name, then=_logging("notice_approved", who, by=who.user.display_name))
                approved.append(nid)
            except sharing.OutboxError as exc:
                refused.append({"id": nid, "reason": str(exc)})
    return {"approved": approved, "refused": refused}


@router.post("/{notice_id}/export", responses={**REFUSALS, 200: {"content": {m.split(";")[0]: {} for m in MEDIA.values()}}})
def export(notice_id: str, request: Request, format: Literal["json", "html", "md"] = "json", who: Principal = Depends(require("reviewer"))) -> Response:
    """Export an approved notice (JSON, printable HTML, Markdown); every export is logged."""
    with outbox(request) as box:
        try:
            today = datetime.now(UTC).date()
            notice = box.export(notice_id, request.app.state.engine.packset, today, then=_logging("notice_exported", who, format=format))
        except sharing.OutboxError as exc:
            raise _refused(exc) from None
    return Response(sharing.render(notice, format), media_type=MEDIA[format])
