"""Rows of stored screenings: one per screening, the columns a listing filters on and shows.

The full record (dossier, report, inputs) is the screening's log entry;
:func:`summaries` never reads it, so a page of a listing costs the same
whatever the size of the dossiers behind it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Select, or_, select

from .schema import log, screenings

SEVERITY_COLUMNS = {"block": screenings.c.blocks, "warn": screenings.c.warnings, "info": screenings.c.infos}


@dataclass(frozen=True)
class Criteria:
    """What a listing selects on the indexed columns; empty sets select everything."""

    actor: str | None = None
    countries: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    outcomes: frozenset[str] = frozenset()
    severities: frozenset[str] = frozenset()
    screened_from: date | None = None
    screened_to: date | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    before_seq: int | None = None
    """Only screenings stored before this log position (the page cursor)."""


def insert(conn: Connection, **values: Any) -> None:
    conn.execute(screenings.insert().values(**values))


def log_seq(conn: Connection, sid: str) -> int | None:
    """The log position of a stored screening, or None."""
    return conn.execute(select(screenings.c.log_seq).where(screenings.c.id == sid)).scalar_one_or_none()


def _where(query: Select[Any], chosen: Criteria) -> Select[Any]:
    c = screenings.c
    if chosen.actor:
        query = query.where(c.actor == chosen.actor)
    for column, values in ((c.country, chosen.countries), (c.kind, chosen.kinds), (c.outcome, chosen.outcomes)):
        if values:
            query = query.where(column.in_(sorted(values)))
    if chosen.severities:
        query = query.where(or_(*(SEVERITY_COLUMNS[s] > 0 for s in sorted(chosen.severities) if s in SEVERITY_COLUMNS)))
    if chosen.screened_from:
        query = query.where(c.screened_at >= chosen.screened_from.isoformat())
    if chosen.screened_to:
        query = query.where(c.screened_at < (chosen.screened_to + timedelta(days=1)).isoformat())
    if chosen.submitted_from:
        query = query.where(c.submitted >= chosen.submitted_from.isoformat())
    if chosen.submitted_to:
        query = query.where(c.submitted <= chosen.submitted_to.isoformat())
    if chosen.before_seq:
        query = query.where(c.log_seq < chosen.before_seq)
    return query.order_by(c.log_seq.desc())


def summaries(conn: Connection, chosen: Criteria, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` summaries, newest first, from the screenings table alone."""
    return [dict(r) for r in conn.execute(_where(select(screenings), chosen).limit(limit)).mappings()]


def with_bodies(conn: Connection, chosen: Criteria, limit: int) -> Iterator[dict[str, Any]]:
    """Up to ``limit`` summaries with their log entry's body, newest first, fetched a few rows at a time."""
    query = _where(select(screenings, log.c.body).join(log, log.c.seq == screenings.c.log_seq), chosen).limit(limit)
    for row in conn.execution_options(yield_per=8).execute(query).mappings():
        yield dict(row)
