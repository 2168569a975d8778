"""Notices to the partner's contact point: build, list, preview, approve and export, with one gate for the log.

Every state change of a notice (approval, export) and every preview of one goes
through :meth:`NoticeService._change` or :meth:`NoticeService.preview`, which
write the screening-log entry in the same transaction as the change when the
notices live in the service's database. A stand-alone outbox (the command
line's ``outbox.sqlite``) has no log; its approvals carry the approver's name
only. The command line approving notices held in the service's database goes
through this same path, as a reviewer of the service named by user name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from .. import sharing
from ..errors import DossierError
from ..locale import N_, translate
from ..packs import PackSet
from ..report import Report
from ..server import screening_log
from ..server.accounts import AccountError, Accounts
from ..server.screenings import NotFound, Screenings
from ..sources import Problem
from ..storage import Database, is_service_database
from ..transparency.checkpoints import SigningKey
from . import receipts

Format = Literal["json", "html", "md"]
FORMATS: tuple[Format, ...] = ("json", "html", "md")
MAX_BUILD = 500
"""Screenings one build may draw from (the API's and the page's limit)."""
SUMMARY_FIELDS = ("id", "country", "act", "state", "dossiers", "findings", "created_at", "approved_by", "approved_at", "exported_at")
DRAFT_MARK = N_("DRAFT: not approved, not to be sent to the partner")
"""Printed at the top of a preview of a draft, in English and Japanese whatever the reader's language."""


@dataclass(frozen=True)
class Reviewer:
    """Who changes a notice: the user name the log records and the name the approval carries."""

    username: str
    display_name: str


@dataclass
class Refusals:
    """What a bulk approval did: the ids approved, and the typed error of each one refused."""

    approved: list[str] = field(default_factory=list)
    refused: list[tuple[str, DossierError]] = field(default_factory=list)


@dataclass
class NoticeService:
    """Notices in ``outbox``; with ``db`` (the service's database holding the same tables), every change is logged."""

    outbox: sharing.Outbox
    db: Database | None = None
    owns_db: bool = False
    """Whether closing this service closes ``db`` (opened for one command, not the service's shared one)."""
    log_key: SigningKey | None = None
    """The log's signing key: with it, :meth:`receipt` gives the receipt of the last change logged."""
    last_entry: int | None = None
    """The log entry of the last change this service logged (one service serves one request or command)."""

    def __enter__(self) -> NoticeService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.outbox.close()
        if self.owns_db and self.db is not None:
            self.db.close()

    # ----------------------------------------------------------------- building and reading

    def build(self, packset: PackSet, reports: Iterable[tuple[str, Report | list[Problem]]], with_personal_data: bool = False) -> sharing.BuildResult:
        """Draft notices from reports (as ``share build``): no personal data unless asked."""
        return self.outbox.add_reports(packset, reports, with_personal_data)

    def build_from_screenings(self, packset: PackSet, screenings: Screenings, ids: list[str]) -> sharing.BuildResult:
        """Draft notices from stored screenings; ``notice.none_chosen`` when no screening is named."""
        chosen = list(dict.fromkeys(ids))[:MAX_BUILD]
        if not chosen:
            raise DossierError("notice.none_chosen")

        def reports() -> Iterator[tuple[str, Report | list[Problem]]]:
            for sid in chosen:
                try:
                    yield sid, Report.model_validate(screenings.stored(sid)["report"])
                except NotFound as exc:
                    yield sid, [Problem(sid, exc.message(), kind="not_found")]

        return self.build(packset, reports())

    def listing(self, chosen: sharing.NoticeFilter) -> list[dict[str, Any]]:
        """Summaries of the notices ``chosen`` selects, filtered by the notice store."""
        return [{k: row[k] for k in SUMMARY_FIELDS} for row in self.outbox.notices(chosen=chosen)]

    def ids(self, chosen: sharing.NoticeFilter) -> list[str]:
        return [row["id"] for row in self.outbox.notices(chosen=chosen)]

    def notice(self, nid: str) -> sharing.Notice:
        """One notice in any state, as data (``notice.not_found``); nothing is exported or logged."""
        return self.outbox.notice(nid)

    def preview(self, nid: str, fmt: Format, who: Reviewer) -> str:
        """The partner-facing document of a notice in any state, for review: marked when a draft, and logged."""
        notice = self.outbox.notice(nid)
        text = sharing.render(notice, fmt)
        if notice.state == "draft":
            text = _marked_draft(text, fmt)
        if self.db is not None:
            with self.db.write() as conn:
                screening_log.append(conn, "notice_previewed", who.username, {"notice_id": nid, "format": fmt, "state": notice.state})
        return text

    # ----------------------------------------------------------------- the one gate for changes

    def approve(self, nid: str, who: Reviewer) -> sharing.Notice:
        """Approve a draft in the reviewer's name (``notice.not_found``, ``notice.not_draft``)."""
        return self._change("notice_approved", nid, who, lambda then: self.outbox.approve(nid, who.display_name, then=then), by=who.display_name)

    def approve_many(self, ids: Iterable[str], who: Reviewer) -> Refusals:
        """Approve each draft on its own: those approved, and why each other one was not."""
        out = Refusals()
        for nid in dict.fromkeys(ids):
            try:
                self.approve(nid, who)
            except sharing.OutboxError as exc:
                out.refused.append((nid, exc))
                continue
            out.approved.append(nid)
        return out

    def export(self, nid: str, packset: PackSet, on: date, fmt: Format, who: Reviewer) -> sharing.Notice:
        """Mark an approved notice exported (``notice.is_draft``, ``notice.no_pack``, ``notice.not_in_force``)."""
        return self._change("notice_exported", nid, who, lambda then: self.outbox.export(nid, packset, on, then=then), format=fmt)

    def _change(self, kind: str, nid: str, who: Reviewer, action: Callable[[sharing.Recorder | None], sharing.Notice], **extra: Any) -> sharing.Notice:
        """Run one state change of a notice; in the service's database, its log entry is written in the same transaction."""
        if self.db is None:
            return action(None)

        def record(conn: Any, changed: str) -> None:  # the store's connection, inside the change's transaction
            self.last_entry = screening_log.append(conn, kind, who.username, {"notice_id": changed, **extra}).seq

        return action(record)

    def receipt(self) -> dict[str, Any] | None:
        """The receipt of the last change logged (None on a stand-alone outbox, or without the log's key)."""
        if self.db is None or self.log_key is None or self.last_entry is None:
            return None
        return receipts.issue(self.db, self.log_key, self.last_entry)


def open_notices(path: Path) -> NoticeService:
    """The notices in the SQLite file at ``path``: a stand-alone outbox, or the service's database (then logged)."""
    db = Database(path) if is_service_database(path) else None
    return NoticeService(sharing.Outbox(db or path), db, owns_db=db is not None)


def reviewer_named(service: NoticeService, name: str | None) -> Reviewer:
    """Who acts on the command line: any name on a stand-alone outbox; a reviewer of the service, by user name, on its database."""
    if service.db is not None:
        if not name:
            raise DossierError("notice.needs_reviewer")
        return service_reviewer(service.db, name)
    return Reviewer(name or "", name or "")


def service_reviewer(db: Database, username: str) -> Reviewer:
    """The reviewer of the service whose database holds the notices, by user name; ``notice.not_a_reviewer`` otherwise."""
    try:
        user = Accounts(db).user(username)
    except AccountError:
        raise DossierError("notice.not_a_reviewer", name=username) from None
    if user.disabled or not user.can("reviewer"):
        raise DossierError("notice.not_a_reviewer", name=username)
    return Reviewer(user.username, user.display_name)


def _marked_draft(text: str, fmt: Format) -> str:
    """A draft's document with a mark at the top that it is not approved (English and Japanese, as the document is)."""
    words = f"{translate(DRAFT_MARK, 'en')} / {translate(DRAFT_MARK, 'ja')}"
    if fmt == "md":
        return f"> **{words}**\n\n{text}"
    if fmt == "html":
        mark = f'<p class="draft-mark" role="note">{words}</p>'
        return text.replace("<body>", "<body>\n" + mark, 1)
    return text
