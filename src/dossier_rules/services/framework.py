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
from typing import Any

from sqlalchemy import Connection

from ..errors import DossierError
from ..framework import consultation, inbox
from ..framework.life import Answer
from ..packs import PackSet
from ..registries import CSV_COLUMNS, Entry, Registry, registry_file
from ..server import screening_log
from ..sources import InputError
from ..storage import framework as rows
from .notices import NoticeService, Reviewer
from .registries import check_keeper, import_registry

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
    problems = inbox.date_problems(item, source, today)
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
    check_keeper(packset, item.country, KIND)
    with service.outbox.db.read() as conn:
        if rows.is_received(conn, rid):
            raise DossierError("framework.already_received", received_id=rid)
    pack = packset.for_country(item.country)
    ministry = (pack.moc.partner_ministry.abbrev if pack else None) or item.country
    cite = f"{ministry} {item.reference} of {item.dated.isoformat()} (received {item.received_on.isoformat()}, {rid})"
    csv_bytes = _updated_list(registries_dir, item, cite)
    history = (service.db, who.username) if service.db is not None else None
    imported = import_registry(packset, registries_dir, item.country, KIND, cite, item.received_on, csv_bytes, source, history=history)
    with service.outbox.db.write() as conn:
        _record(conn, row, who, service.db is not None)
    return Received(rid, item.kind, registry=imported.target)


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


def inquiries(service: NoticeService, countries: frozenset[str], today: date) -> list[dict[str, Any]]:
    """Inquiries received (at most 1000), unanswered first by due date, each with the article Japan answers under and whether it is overdue."""
    with service.outbox.db.read() as conn:
        found = rows.inquiries(conn, countries, rows.MAX_INBOX)
    return [
        {
            "id": r["id"],
            "country": r["country"],
            "provision": f"MOC-{r['country']} {inbox.INQUIRY_ARTICLES.get(r['country'], '?')}",
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


def _updated_list(registries_dir: Path, item: inbox.Revocation | inbox.Accreditation, cite: str) -> bytes:
    """The partner's list with the communication applied, as the CSV the registry import reads."""
    target = registry_file(registries_dir, item.country, KIND)
    entries = list(Registry.model_validate_json(target.read_bytes()).entries) if target.exists() else []
    note = f"{'revoked' if item.kind == 'revocation' else 'accredited'} per {cite}"
    if isinstance(item, inbox.Revocation):
        current = [e for e in entries if e.id == item.agency.id and e.ended_on is None]
        for e in current:
            entries[entries.index(e)] = e.model_copy(update={"ended_on": item.effective_on, "ended_because": "revoked", "note": note})
        if not current:
            entries.append(Entry(id=item.agency.id, name=item.agency.name, ended_on=item.effective_on, ended_because="revoked", note=note))
    else:
        entries.append(Entry(id=item.agency.id, name=item.agency.name, listed_from=item.effective_on, note=note))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for e in entries:
        writer.writerow({c: "" if (v := getattr(e, c)) is None else str(v) for c in CSV_COLUMNS})
    return out.getvalue().encode()
