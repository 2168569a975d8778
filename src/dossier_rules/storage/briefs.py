"""Rows a consultation brief and the examiners' dashboard count: stored screenings with their reports, notices sent and answered.

Read only. The screenings are read newest first a few rows at a time, so a
brief over many of them holds one report at a time; the caller stops at its
own limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, func, select

from .schema import dispatches, log, notice_life, notices, screenings


def screened(
    conn: Connection, countries: frozenset[str], kinds: frozenset[str], outcomes: frozenset[str], start: str, end: str, limit: int
) -> Iterator[dict[str, Any]]:
    """Screenings stored in [start, end) (ISO dates), newest first, each with its log entry's body; at most ``limit``."""
    c = screenings.c
    query = select(c.id, c.dossier_id, c.country, c.kind, c.outcome, c.screened_at, log.c.body).join(log, log.c.seq == c.log_seq)
    query = query.where(c.screened_at >= start, c.screened_at < end)
    for column, values in ((c.country, countries), (c.kind, kinds), (c.outcome, outcomes)):
        if values:
            query = query.where(column.in_(sorted(values)))
    query = query.order_by(c.log_seq.desc()).limit(limit)
    for row in conn.execution_options(yield_per=16).execute(query).mappings():
        yield dict(row)


def notices_sent(conn: Connection, country: str, start: str, end: str) -> int:
    """Notices to ``country`` sent in [start, end): marked transmitted then, or else exported then."""
    when = func.coalesce(notice_life.c.sent_at, notices.c.exported_at)
    query = (
        select(func.count(notices.c.id))
        .select_from(notices.outerjoin(notice_life, notice_life.c.notice_id == notices.c.id))
        .where(notices.c.country == country, when >= start, when < end)
    )
    return int(conn.execute(query).scalar_one())


def notices_answered(conn: Connection, country: str, start: str, end: str) -> int:
    """Notices to ``country`` whose partner's result was recorded in [start, end)."""
    query = (
        select(func.count(notice_life.c.notice_id))
        .select_from(notice_life.join(notices, notice_life.c.notice_id == notices.c.id))
        .where(notices.c.country == country, notice_life.c.answered_at >= start, notice_life.c.answered_at < end)
    )
    return int(conn.execute(query).scalar_one())


def inquiries_sent(conn: Connection, country: str, start: str, end: str) -> int:
    """Japan's inquiries to ``country`` sent in [start, end)."""
    c = dispatches.c
    query = select(func.count(c.id)).where(c.country == country, c.kind == "inquiry", c.sent_at >= start, c.sent_at < end)
    return int(conn.execute(query).scalar_one())
