"""Rows of the framework: a notice's life after approval, its events, and the inbox of received communications.

A change of state is one conditional statement (the row in the expected
state, or no row yet for a first sending), so of two concurrent changes of
one notice exactly one takes effect.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from .schema import dispatches, inbox, items, notice_events, notice_life, notices

MAX_OPEN = 1000
"""Notices one open-notices view reads at most."""
MAX_INBOX = 1000
"""Received communications one listing reads at most."""


def life(conn: Connection, nid: str) -> dict[str, Any] | None:
    row = conn.execute(select(notice_life).where(notice_life.c.notice_id == nid)).mappings().first()
    return dict(row) if row else None


def start_life(conn: Connection, nid: str, at: str, how: str) -> bool:
    """Mark an approved or exported notice sent; whether this call did (False: it already had a life)."""
    if conn.execute(select(notice_life.c.notice_id).where(notice_life.c.notice_id == nid)).first() is not None:
        return False
    conn.execute(notice_life.insert().values(notice_id=nid, state="sent", sent_at=at, sent_how=how))
    return True


def change_life(conn: Connection, nid: str, from_states: tuple[str, ...], **values: Any) -> bool:
    """Move a notice's life from one of ``from_states``; whether it was in one of them."""
    query = notice_life.update().where(notice_life.c.notice_id == nid, notice_life.c.state.in_(from_states)).values(**values)
    return bool(conn.execute(query).rowcount)


def withdraw_unsent(conn: Connection, nid: str, at: str, reason: str) -> bool:
    """Withdraw an approved notice that was never sent: its life starts withdrawn."""
    if conn.execute(select(notice_life.c.notice_id).where(notice_life.c.notice_id == nid)).first() is not None:
        return False
    conn.execute(notice_life.insert().values(notice_id=nid, state="withdrawn", withdrawn_at=at, reason=reason))
    return True


def add_event(conn: Connection, nid: str, kind: str, at: str, actor: str, body: str) -> None:
    conn.execute(notice_events.insert().values(notice_id=nid, kind=kind, at=at, actor=actor, body=body))


def events(conn: Connection, nid: str, limit: int) -> list[dict[str, Any]]:
    """A notice's changes after approval, oldest first."""
    query = select(notice_events).where(notice_events.c.notice_id == nid).order_by(notice_events.c.id).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def notices_with_life(conn: Connection, countries: frozenset[str], limit: int) -> list[dict[str, Any]]:
    """Notices not closed or withdrawn, with their life row's columns (None when they have none), in a stable order."""
    query = (
        select(
            notices.c.id,
            notices.c.country,
            notices.c.act,
            notices.c.header,
            notices.c.state,
            notices.c.created_at,
            notices.c.approved_at,
            notices.c.exported_at,
            notice_life.c.state.label("life_state"),
            notice_life.c.sent_at,
            notice_life.c.sent_how,
            notice_life.c.answered_at,
        )
        .select_from(notices.outerjoin(notice_life, notice_life.c.notice_id == notices.c.id))
        .where((notice_life.c.state.is_(None)) | (notice_life.c.state.in_(("sent", "answered"))))
        .order_by(notices.c.country, notices.c.id)
        .limit(limit)
    )
    if countries:
        query = query.where(notices.c.country.in_(sorted(countries)))
    return [dict(r) for r in conn.execute(query).mappings()]


def add_received(conn: Connection, **values: Any) -> bool:
    """Record a received communication once; whether it was new (False: that id was recorded already)."""
    if conn.execute(select(inbox.c.id).where(inbox.c.id == values["id"])).first() is not None:
        return False
    conn.execute(inbox.insert().values(**values))
    return True


def is_received(conn: Connection, rid: str) -> bool:
    return conn.execute(select(inbox.c.id).where(inbox.c.id == rid)).first() is not None


def received(conn: Connection, countries: frozenset[str], limit: int) -> list[dict[str, Any]]:
    """Received communications, newest first (without personal data: the column is not read)."""
    query = select(*(c for c in inbox.c if c.name != "personal")).order_by(inbox.c.received_on.desc(), inbox.c.id).limit(limit)
    if countries:
        query = query.where(inbox.c.country.in_(sorted(countries)))
    return [dict(r) for r in conn.execute(query).mappings()]


def notice_exists(conn: Connection, nid: str) -> bool:
    return conn.execute(select(notices.c.id).where(notices.c.id == nid)).first() is not None


MAX_AGENDA_INTERMEDIARIES = 10
"""Intermediaries with most findings one consultation agenda lists."""


def findings_by_act(conn: Connection, country: str, start: str, end: str) -> dict[str, int]:
    """Findings carried by notices to ``country`` and added in [start, end), by act."""
    query = (
        select(notices.c.act, func.count(items.c.finding_key))
        .select_from(items.join(notices, items.c.notice_id == notices.c.id))
        .where(notices.c.country == country, items.c.added_at >= start, items.c.added_at < end)
        .group_by(notices.c.act)
        .order_by(notices.c.act)
    )
    return {str(act): int(count) for act, count in conn.execute(query)}


def findings_by_group(conn: Connection, country: str, start: str, end: str, limit: int) -> list[dict[str, Any]]:
    """The notice groups (an intermediary and an act) with most findings in [start, end), and the header of their newest notice."""
    count = func.count(items.c.finding_key).label("findings")
    query = (
        select(notices.c.group_key, notices.c.act, func.max(notices.c.header).label("header"), count)
        .select_from(items.join(notices, items.c.notice_id == notices.c.id))
        .where(notices.c.country == country, notices.c.act != "test_fraud", items.c.added_at >= start, items.c.added_at < end)
        .group_by(notices.c.group_key, notices.c.act)
        .order_by(count.desc(), notices.c.group_key)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def received_by_kind(conn: Connection, country: str, start: str, end: str) -> dict[str, int]:
    """Communications received from ``country`` in [start, end), by kind."""
    query = (
        select(inbox.c.kind, func.count(inbox.c.id))
        .where(inbox.c.country == country, inbox.c.received_on >= start, inbox.c.received_on < end)
        .group_by(inbox.c.kind)
        .order_by(inbox.c.kind)
    )
    return {str(kind): int(count) for kind, count in conn.execute(query)}


def inquiries(conn: Connection, countries: frozenset[str], limit: int) -> list[dict[str, Any]]:
    """Inquiries received, unanswered first, then by due date (without personal data: the column is not read)."""
    query = (
        select(*(c for c in inbox.c if c.name != "personal"))
        .where(inbox.c.kind == "inquiry")
        .order_by(inbox.c.answered_at.is_not(None), inbox.c.due_on, inbox.c.id)
        .limit(limit)
    )
    if countries:
        query = query.where(inbox.c.country.in_(sorted(countries)))
    return [dict(r) for r in conn.execute(query).mappings()]


def answer_inquiry(conn: Connection, rid: str, at: str, by: str, reference: str) -> bool:
    """Record Japan's reply to an unanswered inquiry; whether it was one."""
    query = inbox.update().where(inbox.c.id == rid, inbox.c.kind == "inquiry", inbox.c.answered_at.is_(None))
    return bool(conn.execute(query.values(answered_at=at, answered_by=by, answer_reference=reference)).rowcount)


def add_dispatch(conn: Connection, **values: Any) -> bool:
    """Record a draft of Japan's own notice once; whether it was new (its id is derived from its content)."""
    if conn.execute(select(dispatches.c.id).where(dispatches.c.id == values["id"])).first() is not None:
        return False
    conn.execute(dispatches.insert().values(**values))
    return True


def dispatch(conn: Connection, did: str) -> dict[str, Any] | None:
    row = conn.execute(select(dispatches).where(dispatches.c.id == did)).mappings().first()
    return dict(row) if row else None


def change_dispatch(conn: Connection, did: str, from_states: tuple[str, ...], **values: Any) -> bool:
    """Move one of Japan's notices from one of ``from_states``; whether it was in one of them."""
    query = dispatches.update().where(dispatches.c.id == did, dispatches.c.state.in_(from_states)).values(**values)
    return bool(conn.execute(query).rowcount)


def list_dispatches(conn: Connection, countries: frozenset[str], limit: int) -> list[dict[str, Any]]:
    query = select(dispatches).order_by(dispatches.c.country, dispatches.c.created_at, dispatches.c.id).limit(limit)
    if countries:
        query = query.where(dispatches.c.country.in_(sorted(countries)))
    return [dict(r) for r in conn.execute(query).mappings()]
