"""What the partner sends: the inbox of received communications, for the command line and the API alike.

A communication is checked whole before anything is recorded: its JSON (dates
strict, partner and kind known), its dates (not in the future, not received
before they were written), the notice it answers (existing, for that
partner, in a state that takes an answer), the registry it changes (one the
packs consult, not a shipped sample). Then:

* a revocation or an accreditation updates the partner's list of accredited
  agencies through the registry import (:mod:`.registries`), the received
  message becoming the list's source and the entry's note, so the import
  history and the list itself say "revoked per <ministry> <reference> of
  <date>";
* a partner's 4(1) information about an intermediary becomes an entry of
  its list ``intermediary-reports`` (from the day received, superseding the
  current one about that intermediary), and its withdrawal ends that entry;
  the common pack's rules consult the list and cite the entry's note;
* a registry change is written inside the transaction of the inbox row (and
  its log entry and import history), and the file is put back if anything
  after it fails: never a list changed by a message the inbox does not hold;
* an inquiry waits for Japan's reply (:func:`reply`), overdue past its due date;
* a result becomes the answer of its notice, through the notices service's
  one gate, in the same transaction as the inbox row and the log entry.

Personal data a partner sends is kept in its own column and never listed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from ..errors import DossierError
from ..framework import consultation, inbox, japan, life
from ..framework.life import MAX_TEXT, Answer
from ..packs import PackSet
from ..problems import InputError
from ..registries import CSV_COLUMNS, REPORTS, Entry, Registries, Registry, registry_file, restore_registry
from ..status import pack_status
from ..storage import framework as rows
from . import screening_log
from .notices import NoticeService, Reviewer
from .registries import check_keeper, import_registry

if TYPE_CHECKING:
    from .screening_store import Screenings

KIND = "accredited-agencies"


@dataclass(frozen=True)
class Received:
    """What recording a communication did: its id, its kind, and the notice or registry file it changed."""

    id: str
    kind: str
    notice_id: str | None = None
    registry: Path | None = None


def receive(service: NoticeService, packset: PackSet, registries_dir: Path, data: bytes, source: str, who: Reviewer, today: date) -> Received:
    """Validate and record one received communication; ``framework.refused`` (with every problem) and nothing recorded otherwise."""
    try:
        item = inbox.parse(data, source)
    except InputError as exc:
        raise DossierError("framework.refused", location=source, problems=exc.problems, count=len(exc.problems)) from None
    pack = packset.for_country(item.country)
    problems = inbox.partner_problems(item, source, pack.provisions() if pack is not None else None) + inbox.date_problems(item, source, today)
    if problems:
        raise DossierError("framework.refused", location=source, problems=problems, count=len(problems))
    rid = "R-" + hashlib.sha256(data).hexdigest()[:16]
    row = _row(rid, item, who)
    if isinstance(item, inbox.Inquiry):
        due = item.due_on or item.received_on + timedelta(days=inbox.INQUIRY_DAYS)
        with service.outbox.db.write() as conn:
            _record(conn, {**row, "due_on": due.isoformat()}, who, service.db is not None)
        return Received(rid, item.kind)
    if isinstance(item, inbox.Result):
        _check_notice(service, item)
        answer = Answer(text=item.text, received_on=item.received_on, reference=item.reference, action=item.action)
        service.answer(item.notice_id, answer, who, received_id=rid, also=lambda conn: _record(conn, row, who, service.db is not None))
        return Received(rid, item.kind, notice_id=item.notice_id)
    kind = REPORTS if isinstance(item, (inbox.IntermediaryReport, inbox.ReportWithdrawal)) else KIND
    check_keeper(packset, item.country, kind)
    with service.outbox.db.read() as conn:
        if rows.is_received(conn, rid):
            raise DossierError("framework.already_received", received_id=rid)
    ministry = (pack.moc.partner_ministry.abbrev if pack else None) or item.country
    target = _update_registry(service, packset, registries_dir, item, _Update(kind, ministry, rid, source, row), who)
    return Received(rid, item.kind, registry=target)


@dataclass(frozen=True)
class _Update:
    """What one received communication changes in a registry: the list, who sent it, and the inbox row that records it."""

    kind: str
    ministry: str
    rid: str
    source: str
    row: dict[str, Any]


def _update_registry(service: NoticeService, packset: PackSet, directory: Path, item: Listed, update: _Update, who: Reviewer) -> Path:
    """The registry file and the inbox row (with its log entry and the import history) recorded together, or neither.

    The file is written inside the database transaction that records the row;
    if anything after it fails (the row, the log, the commit), the file is put
    back as it was, so a failure never leaves a list changed by a message the
    inbox does not hold, nor a message recorded whose change is missing.
    """
    target = registry_file(directory, item.country, update.kind)
    before = target.read_bytes() if target.exists() else None
    try:
        with service.outbox.db.write() as conn:
            source, data = _changed(directory, item, update)
            history = (conn, who.username) if service.db is not None else None
            import_registry(packset, directory, item.country, update.kind, source, item.received_on, data, update.source, history=history)
            _record(conn, update.row, who, service.db is not None)
    except BaseException:
        restore_registry(target, before)
        raise
    return target


Listed = inbox.Revocation | inbox.Accreditation | inbox.IntermediaryReport | inbox.ReportWithdrawal
"""The communications that change a registry."""


def _changed(directory: Path, item: Listed, update: _Update) -> tuple[str, bytes]:
    """The registry's new source and its entries with the communication applied, as the CSV the registry import reads."""
    target = registry_file(directory, item.country, update.kind)
    entries = list(Registry.model_validate_json(target.read_bytes()).entries) if target.exists() else []
    if isinstance(item, (inbox.Revocation, inbox.Accreditation)):
        cite = f"{update.ministry} {item.reference} of {item.dated.isoformat()} (received {item.received_on.isoformat()}, {update.rid})"
        return cite, _as_csv(_agency_change(entries, item, cite))
    note = report_note(update.ministry, item.reference, item.dated, update.rid)
    source = f"{update.ministry}: information shared under 4(1), received through the inbox (latest {note}, received {item.received_on.isoformat()})"
    return source, _as_csv(_report_change(entries, item, update.ministry, note))


def report_note(ministry: str, reference: str, dated: date, rid: str) -> str:
    """How an entry of ``intermediary-reports`` names the message it came from: the partner's reference and date, and the receipt id."""
    return f"{_named(ministry, reference)}, {dated.isoformat()} ({rid})"


def _named(ministry: str, reference: str) -> str:
    """A partner's reference with its ministry in front, once ("MoLVT No. 120/25", whether or not the reference says MoLVT)."""
    return reference if reference.startswith(ministry) else f"{ministry} {reference}"


def _report_change(entries: list[Entry], item: inbox.IntermediaryReport | inbox.ReportWithdrawal, ministry: str, note: str) -> list[Entry]:
    """A report listed from the day it was received, superseding the current one about the same intermediary; or a report withdrawn.

    A withdrawal names the report by the partner's reference; no current report of
    that intermediary with that reference is ``framework.nothing_to_withdraw``. The
    entry keeps the report's own note, so a screening as of a day before the
    withdrawal cites the report as it then stood; the withdrawal is named by the
    list's source, the inbox row and the import history.
    """
    day, who = item.received_on, item.intermediary
    current = [e for e in entries if e.id == who.id and e.active_on(day)]
    if isinstance(item, inbox.IntermediaryReport):
        kept = [e for e in entries if not (e in current and e.listed_from == day)]  # the same day: the later report replaces it
        ended = [e.model_copy(update={"ended_on": day, "ended_because": "superseded"}) if e in current else e for e in kept]
        return [*ended, Entry(id=who.id, name=who.name, listed_from=day, note=note)]
    named = [e for e in current if (e.note or "").startswith(f"{_named(ministry, item.withdraws)}, ")]
    if not named:
        raise DossierError("framework.nothing_to_withdraw", country=item.country, reference=item.withdraws, intermediary=who.id)
    return [e.model_copy(update={"ended_on": day, "ended_because": "withdrawn"}) if e in named else e for e in entries]


def listing(service: NoticeService, countries: frozenset[str]) -> list[dict[str, Any]]:
    """Received communications, newest first, without personal data (a flag says when some was withheld)."""
    with service.outbox.db.read() as conn:
        found = rows.received(conn, countries, rows.MAX_INBOX)
    return [{**{k: v for k, v in r.items() if k != "body"}, "body": json.loads(r["body"])} for r in found]


MAX_AGENDA_DAYS = 3660
"""The longest period one agenda covers (about ten years)."""


def agenda(service: NoticeService, country: str, start: date, end: date, due: dict[str, int], today: date) -> dict[str, Any]:
    """The 4(2) consultation agenda for one partner and the period [start, end] (``framework.bad_period``)."""
    if end < start or (end - start).days > MAX_AGENDA_DAYS:
        raise DossierError("framework.bad_period", start=start.isoformat(), end=end.isoformat(), days=MAX_AGENDA_DAYS)
    first, after = start.isoformat(), (end + timedelta(days=1)).isoformat()
    with service.outbox.db.read() as conn:
        by_act = rows.findings_by_act(conn, country, first, after)
        groups = rows.findings_by_group(conn, country, first, after, rows.MAX_AGENDA_INTERMEDIARIES)
        received = rows.received_by_kind(conn, country, first, after)
    waiting = service.open_notices(frozenset([country]), due, today)
    return consultation.agenda(country, (first, end.isoformat()), by_act, groups, waiting, received)


def inquiries(service: NoticeService, packset: PackSet, countries: frozenset[str], today: date) -> list[dict[str, Any]]:
    """Inquiries received (at most 1000), unanswered first by due date, each with the article Japan answers under and whether it is overdue."""
    with service.outbox.db.read() as conn:
        found = rows.inquiries(conn, countries, rows.MAX_INBOX)
    return [
        {
            "id": r["id"],
            "country": r["country"],
            "provision": f"MOC-{r['country']} {_provision(packset, r['country'], inbox.INQUIRY_FROM_PARTNER) or '?'}",
            "reference": r["reference"],
            "received_on": r["received_on"],
            "subject": json.loads(r["body"]).get("subject"),
            "due_on": r["due_on"],
            "answered_at": r["answered_at"],
            "answer_reference": r["answer_reference"],
            "overdue": r["answered_at"] is None and r["due_on"] is not None and today.isoformat() > r["due_on"],
        }
        for r in found
    ]


def reply(service: NoticeService, rid: str, reference: str, who: Reviewer) -> None:
    """Record that Japan answered an inquiry (``framework.not_an_open_inquiry``); logged in the service's database."""
    if not reference.strip():
        raise DossierError("framework.reference_missing", received_id=rid)
    at = datetime.now(UTC).replace(microsecond=0).isoformat()
    with service.outbox.db.write() as conn:
        if not rows.answer_inquiry(conn, rid, at, who.username or who.display_name, reference.strip()):
            raise DossierError("framework.not_an_open_inquiry", received_id=rid)
        if service.db is not None:
            screening_log.append(conn, "inquiry_answered", who.username, {"received_id": rid, "reference": reference.strip()})


def _check_notice(service: NoticeService, item: inbox.Result) -> None:
    with service.outbox.db.read() as conn:
        exists = rows.notice_exists(conn, item.notice_id)
    if not exists:
        raise DossierError("framework.unknown_notice", notice_id=item.notice_id)
    notice = service.notice(item.notice_id)
    if notice.country != item.country:
        raise DossierError("framework.other_partner", country=item.country, notice_id=item.notice_id, notice_country=notice.country)


def _row(rid: str, item: inbox.Communication, who: Reviewer) -> dict[str, Any]:
    return {
        "id": rid,
        "country": item.country,
        "kind": item.kind,
        "dated": item.dated.isoformat(),
        "received_on": item.received_on.isoformat(),
        "reference": item.reference,
        "notice_id": getattr(item, "notice_id", None),
        "body": json.dumps(inbox.summary(item), ensure_ascii=False),
        "personal": json.dumps(item.personal, ensure_ascii=False) if item.personal is not None else None,
        "recorded_by": who.username or who.display_name,
        "recorded_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def _record(conn: Connection, row: dict[str, Any], who: Reviewer, logged: bool) -> None:
    """The inbox row and, in the service's database, its log entry (never the personal data)."""
    if not rows.add_received(conn, **row):
        raise DossierError("framework.already_received", received_id=row["id"])
    if logged:
        body = {"received_id": row["id"], "country": row["country"], "kind": row["kind"], "reference": row["reference"], "notice_id": row["notice_id"]}
        screening_log.append(conn, "communication_received", who.username, body)


def _agency_change(entries: list[Entry], item: inbox.Revocation | inbox.Accreditation, cite: str) -> list[Entry]:
    """The partner's list of accredited agencies with a revocation or an accreditation applied."""
    note = f"{'revoked' if item.kind == 'revocation' else 'accredited'} per {cite}"
    if isinstance(item, inbox.Revocation):
        current = [e for e in entries if e.id == item.agency.id and e.ended_on is None]
        for e in current:
            entries[entries.index(e)] = e.model_copy(update={"ended_on": item.effective_on, "ended_because": "revoked", "note": note})
        if not current:
            entries.append(Entry(id=item.agency.id, name=item.agency.name, ended_on=item.effective_on, ended_because="revoked", note=note))
    else:
        entries.append(Entry(id=item.agency.id, name=item.agency.name, listed_from=item.effective_on, note=note))
    return entries


def _as_csv(entries: list[Entry]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for e in entries:
        writer.writerow({c: "" if (v := getattr(e, c)) is None else str(v) for c in CSV_COLUMNS})
    return out.getvalue().encode()


# --------------------------------------------------------------------------- what Japan sends on its own

DISPATCH_ALLOWED: dict[str, tuple[str, ...]] = {
    "approve": ("draft",),
    "send": ("approved",),
    "answer": ("sent",),
    "close": ("sent", "answered"),
    "withdraw": ("draft", "approved", "sent"),
}
"""From which states each change of one of Japan's own notices is allowed."""
DISPATCH_TARGET = {"approve": "approved", "send": "sent", "answer": "answered", "close": "closed", "withdraw": "withdrawn"}


def _provision(packset: PackSet, country: str, name: str) -> str | None:
    """An article of a partner's MOC by the name its pack gives it (``pack.provisions``); None without the pack or the article."""
    pack = packset.for_country(country)
    return pack.provisions().get(name) if pack is not None else None


"""The article under which the partner provides what Japan's inquiry asks (KH 5(7); LA, KG, TJ 7(6)); PK's MOC has none."""
MAX_DISPATCHES = 1000


def draft_orders(service: NoticeService, packset: PackSet, registries: Registries, start: date, end: date, who: Reviewer, today: date) -> japan.OrderNotices:
    """Draft the notices of improvement orders first listed in [start, end]; drafting the same again creates nothing."""
    found = japan.improvement_order_notices(packset, registries, start, end, today)
    created = []
    for notice in found.notices:
        did = "J-" + notice["country"] + "-orders-" + hashlib.sha256(json.dumps(notice["orders"], sort_keys=True).encode()).hexdigest()[:10]
        if _new_dispatch(service, did, notice["country"], "improvement_orders", notice["provision"], notice, None, who):
            created.append({**notice, "id": did})
    return japan.OrderNotices(created, found.held_back)


def draft_inquiry(
    service: NoticeService,
    packset: PackSet,
    country: str,
    subject: str,
    due_days: int,
    who: Reviewer,
    screening: Screenings | None = None,
    screening_id: str = "",
) -> str:
    """Draft an inquiry to a partner (KH 5(7); LA, KG, TJ 7(6)): what Japan asks, and the days it gives for the answer.

    From a stored screening (``screening_id``, checked to exist and to be of that partner), the inquiry
    carries the screening's id and dossier id only: the facts it asks about are in ``subject``, and the
    answer, when recorded, is found from the screening by that id.
    """
    article = _provision(packset, country, inbox.INQUIRY_TO_PARTNER)
    if article is None:
        raise DossierError("framework.no_inquiry_article", country=country)
    if not subject.strip() or len(subject) > MAX_TEXT:
        raise DossierError("framework.subject_missing", limit=MAX_TEXT)
    body: dict[str, Any] = {"country": country, "subject": subject.strip()}
    if screening_id:
        body |= _screening_of(screening, screening_id, country)
    did = "J-" + country + "-inquiry-" + hashlib.sha256(json.dumps([body, datetime.now(UTC).isoformat()]).encode()).hexdigest()[:10]
    _new_dispatch(service, did, country, "inquiry", f"MOC-{country} {article}", body, due_days, who)
    return did


def _screening_of(screening: Screenings | None, sid: str, country: str) -> dict[str, str]:
    """The screening an inquiry comes from: its id and dossier id (``screening.not_found``, or of another partner)."""
    if screening is None:
        return {"screening_id": sid}
    stored = screening.stored(sid)["report"]  # screening.not_found when there is none
    if stored["country"] != country:
        raise DossierError("framework.other_partner", country=country, notice_id=sid, notice_country=stored["country"])
    return {"screening_id": sid, "dossier_id": stored["dossier_id"]}


def change_dispatch(service: NoticeService, did: str, action: str, who: Reviewer, packset: PackSet, today: date, **data: str) -> dict[str, Any]:
    """The one gate for Japan's own notices: one change, its log entry in the same transaction (service database)."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    with service.outbox.db.write() as conn:
        row = rows.dispatch(conn, did)
        if row is None:
            raise DossierError("framework.no_dispatch", dispatch_id=did)
        if row["state"] not in DISPATCH_ALLOWED[action]:
            raise DossierError(
                "framework.wrong_state", notice_id=did, state=life.state_words(row["state"]), allowed=life.state_words(*DISPATCH_ALLOWED[action])
            )
        if action == "send":
            _in_force(packset, row["country"], did, today)
        if action == "close" and row["kind"] == "inquiry" and row["state"] == "sent":
            raise DossierError("framework.awaits_result", notice_id=did)
        if action == "withdraw" and not data.get("reason", "").strip():
            raise DossierError("framework.reason_missing", notice_id=did)
        rows.change_dispatch(conn, did, DISPATCH_ALLOWED[action], state=DISPATCH_TARGET[action], **_columns(action, now, who, data))
        if service.db is not None:
            screening_log.append(conn, f"dispatch_{DISPATCH_TARGET[action]}", who.username, {"dispatch_id": did, "country": row["country"]})
    return dispatch_view(service, did, today)


def dispatch_view(service: NoticeService, did: str, today: date) -> dict[str, Any]:
    """One of Japan's notices: what it says, its state, when each step happened, and whether an inquiry's answer is overdue."""
    with service.outbox.db.read() as conn:
        row = rows.dispatch(conn, did)
    if row is None:
        raise DossierError("framework.no_dispatch", dispatch_id=did)
    return _view(row, today)


def dispatches(service: NoticeService, countries: frozenset[str], today: date) -> list[dict[str, Any]]:
    """Japan's own notices (at most 1000), overdue inquiries first."""
    with service.outbox.db.read() as conn:
        found = rows.list_dispatches(conn, countries, MAX_DISPATCHES)
    return sorted((_view(r, today) for r in found), key=lambda v: not v["overdue"])


def _view(row: dict[str, Any], today: date) -> dict[str, Any]:
    expects = row["kind"] == "inquiry"
    when = life.timing(row["approved_at"], row["sent_at"], row["state"], expects, row["due_days"] or life.DEFAULT_DUE_DAYS, today)
    out = {k: row[k] for k in ("id", "country", "kind", "provision", "state", "created_at", "created_by", "approved_by", "approved_at", "sent_at", "sent_how")}
    out |= {"body": json.loads(row["body"]), "answer": json.loads(row["answer"]) if row["answer"] else None, "reason": row["reason"]}
    return out | {"days_before_sent": when.delay_days, "due_on": when.due_on.isoformat() if when.due_on else None, "overdue": when.overdue}


def _columns(action: str, now: str, who: Reviewer, data: dict[str, str]) -> dict[str, Any]:
    name = who.display_name or who.username
    if action == "approve":
        return {"approved_by": name, "approved_at": now}
    if action == "send":
        return {"sent_at": now, "sent_how": data.get("how", "other")}
    if action == "answer":
        return {"answer": json.dumps(data, ensure_ascii=False), "answered_at": now}
    return {"ended_at": now, "reason": data.get("reason") or data.get("note") or None}


def _in_force(packset: PackSet, country: str, did: str, on: date) -> None:
    pack = packset.for_country(country)
    if pack is None:
        raise DossierError("notice.no_pack", notice_id=did, country=country)
    status = pack_status(pack, on)
    if status["state"] != "in_force":
        raise DossierError("notice.not_in_force", notice_id=did, country=country, on=on.isoformat(), state=status["state"], detail=status["detail"])


def _new_dispatch(service: NoticeService, did: str, country: str, kind: str, provision: str, body: dict[str, Any], due_days: int | None, who: Reviewer) -> bool:
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    values = {"id": did, "country": country, "kind": kind, "provision": provision, "body": json.dumps(body, ensure_ascii=False), "state": "draft"}
    with service.outbox.db.write() as conn:
        new = rows.add_dispatch(conn, **values, created_at=now, created_by=who.username or who.display_name, due_days=due_days)
        if new and service.db is not None:
            screening_log.append(conn, "dispatch_drafted", who.username, {"dispatch_id": did, "country": country, "kind": kind})
    return new
