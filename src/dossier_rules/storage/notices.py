"""Rows of the notice outbox: notices and the findings (items) each carries.

Building takes the outbox's lock (:func:`lock_outbox`) so two builders never
race to create the same notice; approving and exporting change a notice's
state with one conditional update, so of two approvals of one draft, on any
number of processes, exactly one takes effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, distinct, func, select

from .database import lock
from .schema import items, notices


@dataclass(frozen=True)
class Criteria:
    """Which notices a listing selects; empty sets select everything. ``groups`` are intermediary keys."""

    countries: frozenset[str] = frozenset()
    acts: frozenset[str] = frozenset()
    states: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    created_from: date | None = None
    created_to: date | None = None


def lock_outbox(conn: Connection) -> None:
    lock(conn, "outbox")


def has_item(conn: Connection, finding_key: str) -> bool:
    return conn.execute(select(items.c.finding_key).where(items.c.finding_key == finding_key)).first() is not None


def has_dossier(conn: Connection, nid: str, dossier_id: str) -> bool:
    """Whether a notice already carries a finding of this dossier (so a new finding of it adds no dossier)."""
    query = select(items.c.finding_key).where(items.c.notice_id == nid, items.c.dossier_id == dossier_id).limit(1)
    return conn.execute(query).first() is not None


def last_of_group(conn: Connection, group_key: str) -> dict[str, Any] | None:
    """The newest notice of a group (its id, sequence number and state), or None."""
    query = select(notices.c.id, notices.c.seq, notices.c.state).where(notices.c.group_key == group_key).order_by(notices.c.seq.desc()).limit(1)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def insert_notice(conn: Connection, **values: Any) -> None:
    conn.execute(notices.insert().values(**values))


def insert_item(conn: Connection, **values: Any) -> None:
    conn.execute(items.insert().values(**values))


def _conditions(chosen: Criteria) -> list[ColumnElement[bool]]:
    c = notices.c
    where: list[ColumnElement[bool]] = [
        column.in_(sorted(values)) for column, values in ((c.country, chosen.countries), (c.act, chosen.acts), (c.state, chosen.states)) if values
    ]
    if chosen.groups:
        where.append(func.substr(c.group_key, func.length(c.country) + func.length(c.act) + 3).in_(sorted(chosen.groups)))
    if chosen.created_from:
        where.append(c.created_at >= chosen.created_from.isoformat())
    if chosen.created_to:
        where.append(c.created_at < (chosen.created_to + timedelta(days=1)).isoformat())
    return where


def listing(conn: Connection, chosen: Criteria) -> list[dict[str, Any]]:
    """Notices with their counts of dossiers and findings, in a stable order (country, act, id)."""
    query = (
        select(notices, func.count(distinct(items.c.dossier_id)).label("dossiers"), func.count(items.c.finding_key).label("findings"))
        .select_from(notices.outerjoin(items, items.c.notice_id == notices.c.id))
        .where(*_conditions(chosen))
        .group_by(*notices.c)
        .order_by(notices.c.country, notices.c.act, notices.c.id)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def notice(conn: Connection, nid: str) -> dict[str, Any] | None:
    row = conn.execute(select(notices).where(notices.c.id == nid)).mappings().first()
    return dict(row) if row else None


def item_bodies(conn: Connection, nid: str) -> list[str]:
    """The stored findings of a notice, in dossier and finding order."""
    query = select(items.c.body).where(items.c.notice_id == nid).order_by(items.c.dossier_id, items.c.finding_key)
    return list(conn.execute(query).scalars())


def approve(conn: Connection, nid: str, by: str, at: str) -> bool:
    """Approve a draft; whether this call did (False: no such draft, it was approved or exported already)."""
    query = notices.update().where(notices.c.id == nid, notices.c.state == "draft").values(state="approved", approved_by=by, approved_at=at)
    return bool(conn.execute(query).rowcount)


def state(conn: Connection, nid: str) -> str | None:
    return conn.execute(select(notices.c.state).where(notices.c.id == nid)).scalar_one_or_none()


def mark_exported(conn: Connection, nid: str, at: str) -> bool:
    """Mark an approved notice exported now (a re-export keeps the time of the first); whether it was approved."""
    query = notices.update().where(notices.c.id == nid, notices.c.state == "approved").values(state="exported", exported_at=at)
    return bool(conn.execute(query).rowcount)
