"""Notices to the partner's contact point: build, list, preview, approve, export, then send, answer, close or withdraw.

Every state change of a notice (approval, export, and after it sending,
the partner's answer, closing, withdrawal: :mod:`dossier_rules.framework.life`)
and every preview of one goes
through :meth:`NoticeService._change` or :meth:`NoticeService.preview`, which
write the screening-log entry in the same transaction as the change when the
notices live in the service's database. A stand-alone outbox (the command
line's ``outbox.sqlite``) has no log; its approvals carry the approver's name
only. The command line approving notices held in the service's database goes
through this same path, as a reviewer of the service named by user name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import sharing
from ..errors import DossierError
from ..formats import NoticeFormat
from ..framework import life
from ..locale import N_, translate
from ..packs import PackSet
from ..problems import Problem
from ..report import Report
from ..status import pack_status
from ..storage import Database, is_service_database, now_iso
from ..storage import framework as life_rows
from ..storage import notices as rows
from ..transparency.checkpoints import SigningKey
from . import receipts, screening_log

if TYPE_CHECKING:
    from .screening_store import Screenings

MAX_BUILD = 500
"""Screenings one build may draw from (the API's and the page's limit)."""
SUMMARY_FIELDS = ("id", "country", "act", "state", "dossiers", "findings", "created_at", "approved_by", "approved_at", "exported_at")
MAX_HISTORY = 500
"""Changes after approval one history shows at most (a notice has a handful)."""
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
                except DossierError as exc:
                    if exc.code != "screening.not_found":
                        raise
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

    def preview(self, nid: str, fmt: NoticeFormat, who: Reviewer) -> str:
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

    def export(self, nid: str, packset: PackSet, on: date, fmt: NoticeFormat, who: Reviewer) -> sharing.Notice:
        """Mark an approved notice exported (``notice.is_draft``, ``notice.no_pack``, ``notice.not_in_force``)."""
        self._not_ended(nid)
        return self._change("notice_exported", nid, who, lambda then: self.outbox.export(nid, packset, on, then=then), format=fmt)

    # ----------------------------------------------------------------- after approval: sent, answered, closed, withdrawn

    def send(self, nid: str, how: life.SendHow, packset: PackSet, on: date, who: Reviewer) -> sharing.Notice:
        """Mark an approved notice sent to the partner, and how (``framework.wrong_state``, ``notice.not_in_force``)."""
        notice = self.outbox.notice(nid)
        state = self._state(nid)
        life.check_allowed("send", nid, state)
        if how != "exported":
            _check_in_force(notice, packset, on)
        return self._change("notice_sent", nid, who, lambda then: self._life(nid, "send", who, {"how": how}, then), how=how)

    def answer(self, nid: str, result: life.Answer, who: Reviewer, received_id: str | None = None, also: Callable[[Any], None] | None = None) -> sharing.Notice:
        """Record the partner's result of a sent notice (``framework.wrong_state``, ``framework.answer_before_sent``).

        ``also`` runs in the same transaction (the inbox records the communication the result came in).
        """
        extra = {"partner_action": result.action, "reference": result.reference, "received_on": result.received_on.isoformat()}
        if received_id:
            extra["received_id"] = received_id
        body = {**extra, "action": result.action, "text": result.text}
        del body["partner_action"]

        def recorded(then: sharing.Recorder | None) -> sharing.Notice:
            def both(conn: Any, changed: str) -> None:
                if also is not None:
                    also(conn)
                if then is not None:
                    then(conn, changed)

            return self._life(nid, "answer", who, body, both)

        return self._change("notice_answered", nid, who, recorded, **extra)

    def close(self, nid: str, who: Reviewer, note: str = "") -> sharing.Notice:
        """Close a notice: answered, or sent when it expects no result (``framework.awaits_result``)."""
        return self._change("notice_closed", nid, who, lambda then: self._life(nid, "close", who, {"note": note}, then))

    def withdraw(self, nid: str, reason: str, who: Reviewer) -> sharing.Notice:
        """Withdraw a notice not yet answered, with a reason (``framework.reason_missing``); the reason stays out of the log."""
        if not reason.strip():
            raise DossierError("framework.reason_missing", notice_id=nid)
        return self._change("notice_withdrawn", nid, who, lambda then: self._life(nid, "withdraw", who, {"reason": reason.strip()}, then))

    def _not_ended(self, nid: str) -> None:
        """A withdrawn or closed notice is not exported again (``framework.wrong_state``)."""
        with self.outbox.db.read() as conn:
            current = life_rows.life(conn, nid)
        if current is not None and current["state"] in ("withdrawn", "closed"):
            raise DossierError("framework.wrong_state", notice_id=nid, state=life.state_words(current["state"]), allowed=life.state_words("approved", "sent"))

    def _state(self, nid: str) -> life.LifeState:
        with self.outbox.db.read() as conn:
            outbox_state = rows.state(conn, nid)
            current = life_rows.life(conn, nid)
        if outbox_state is None:
            raise DossierError("notice.not_found", notice_id=nid)
        return life.effective_state(outbox_state, current)

    def _life(self, nid: str, action: life.Action, who: Reviewer, body: dict[str, Any], then: sharing.Recorder | None) -> sharing.Notice:
        """One change of a notice's life in one transaction: the life row, its event, and (in the service) its log entry."""
        now = now_iso()
        with self.outbox.db.write() as conn:
            row = rows.notice(conn, nid)
            if row is None:
                raise DossierError("notice.not_found", notice_id=nid)
            current = life_rows.life(conn, nid)
            state = life.effective_state(row["state"], current)
            life.check_allowed(action, nid, state)
            if current is None and state == "sent":  # exported before this release: its life starts as sent, how "exported"
                life_rows.start_life(conn, nid, row["exported_at"], "exported")
            if not _apply(conn, nid, action, state, now, body, self._expects(row)):
                raise life.wrong_state(action, nid, self._state_in(conn, nid))
            life_rows.add_event(conn, nid, action, now, who.username or who.display_name, json.dumps(body, ensure_ascii=False))
            if then is not None:
                then(conn, nid)
        return self.outbox.notice(nid)

    def _state_in(self, conn: Any, nid: str) -> str:
        return life.effective_state(rows.state(conn, nid) or "draft", life_rows.life(conn, nid))

    def _expects(self, row: dict[str, Any]) -> bool:
        return life.expects_result(row["act"], json.loads(row["header"]).get("provision", ""), None)

    def history(self, nid: str) -> dict[str, Any]:
        """A notice's whole life: created, approved, exported, then every change after approval, by whom and when."""
        with self.outbox.db.read() as conn:
            row = rows.notice(conn, nid)
            if row is None:
                raise DossierError("notice.not_found", notice_id=nid)
            current = life_rows.life(conn, nid)
            later = life_rows.events(conn, nid, MAX_HISTORY)
        steps: list[dict[str, Any]] = [{"kind": "created", "at": row["created_at"], "by": None}]
        if row["approved_at"]:
            steps.append({"kind": "approved", "at": row["approved_at"], "by": row["approved_by"]})
        if row["exported_at"]:
            steps.append({"kind": "exported", "at": row["exported_at"], "by": None})
        steps += [{"kind": e["kind"], "at": e["at"], "by": e["actor"], **json.loads(e["body"])} for e in later]
        answer = json.loads(current["answer"]) if current and current["answer"] else None
        return {"notice_id": nid, "state": life.effective_state(row["state"], current), "expects_result": self._expects(row), "answer": answer, "steps": steps}

    def open_notices(self, countries: frozenset[str], due: dict[str, int], today: date) -> list[dict[str, Any]]:
        """Notices not closed or withdrawn, by partner and state, overdue first; with each one's delay before sending and due date."""
        with self.outbox.db.read() as conn:
            found = life_rows.notices_with_life(conn, countries, life_rows.MAX_OPEN)
        out = []
        for row in found:
            state = life.effective_state(row["state"], {"state": row["life_state"]} if row["life_state"] else None)
            sent_at = row["sent_at"] or (row["exported_at"] if state == "sent" else None)
            expects = self._expects(row)
            when = life.timing(row["approved_at"], sent_at, state, expects, due.get(row["country"], life.DEFAULT_DUE_DAYS), today)
            out.append(
                {
                    "id": row["id"],
                    "country": row["country"],
                    "act": row["act"],
                    "state": state,
                    "sent_how": row["sent_how"] or ("exported" if sent_at else None),
                    "expects_result": expects,
                    "days_before_sent": when.delay_days,
                    "due_on": when.due_on.isoformat() if when.due_on else None,
                    "overdue": when.overdue,
                }
            )
        out.sort(key=lambda r: (not r["overdue"], r["country"], life.STATES.index(r["state"]), r["id"]))
        return out

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
    from .accounts import AccountError, Accounts  # the service's accounts (argon2): only a service database has them

    try:
        user = Accounts(db).user(username)
    except AccountError:
        raise DossierError("notice.not_a_reviewer", name=username) from None
    if user.disabled or not user.can("reviewer"):
        raise DossierError("notice.not_a_reviewer", name=username)
    return Reviewer(user.username, user.display_name)


def _apply(conn: Any, nid: str, action: life.Action, state: life.LifeState, now: str, body: dict[str, Any], expects: bool) -> bool:
    """The storage change of one action from ``state``; whether it took effect."""
    if action == "send":
        return life_rows.start_life(conn, nid, now, body["how"])
    if action == "answer":
        sent = life_rows.life(conn, nid)
        if sent and sent["sent_at"] and body["received_on"] < sent["sent_at"][:10]:
            raise DossierError("framework.answer_before_sent", notice_id=nid, received_on=body["received_on"], sent_on=sent["sent_at"][:10])
        return life_rows.change_life(conn, nid, ("sent",), state="answered", answer=json.dumps(body, ensure_ascii=False), answered_at=now)
    if action == "close":
        if state == "sent" and expects:
            raise DossierError("framework.awaits_result", notice_id=nid)
        return life_rows.change_life(conn, nid, ("sent", "answered"), state="closed", closed_at=now)
    if state == "approved":
        return life_rows.withdraw_unsent(conn, nid, now, body["reason"])
    return life_rows.change_life(conn, nid, ("sent",), state="withdrawn", withdrawn_at=now, reason=body["reason"])


def _check_in_force(notice: sharing.Notice, packset: PackSet, on: date) -> None:
    """A notice leaves only to a partner whose MOC is in force on ``on`` (art. 3), as an export does."""
    pack = packset.for_country(notice.country)
    if pack is None:
        raise DossierError("notice.no_pack", notice_id=notice.notice_id, country=notice.country)
    status = pack_status(pack, on)
    if status["state"] != "in_force":
        raise DossierError(
            "notice.not_in_force", notice_id=notice.notice_id, country=notice.country, on=on.isoformat(), state=status["state"], detail=status["detail"]
        )


def _marked_draft(text: str, fmt: NoticeFormat) -> str:
    """A draft's document with a mark at the top that it is not approved (English and Japanese, as the document is)."""
    words = f"{translate(DRAFT_MARK, 'en')} / {translate(DRAFT_MARK, 'ja')}"
    if fmt == "md":
        return f"> **{words}**\n\n{text}"
    if fmt == "html":
        mark = f'<p class="draft-mark" role="note">{words}</p>'
        return text.replace("<body>", "<body>\n" + mark, 1)
    return text
