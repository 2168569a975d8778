"""The screening log's rows: appended in one total order across every process, read back in pages.

:func:`append` is the only way an entry is added: under the log's lock
(:func:`~dossier_rules.storage.database.lock`; on SQLite the write
transaction itself) it reads the head, asks the caller for the new entry's
hash given its position and the previous hash, and writes the entry and
the new head together. Whatever the log's hashing (a chain today, a Merkle
tree's leaves tomorrow), positions are gap-free and each entry sees the
one before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from .database import lock
from .schema import log, log_head

PAGE = 500
"""Entries read per query when walking the log."""


@dataclass(frozen=True)
class LogRow:
    seq: int
    kind: str
    at: str
    actor: str
    body: str
    prev_hash: str
    hash: str


def lock_log(conn: Connection) -> None:
    """Take the log's lock for the rest of the write transaction (before reading the head to append)."""
    lock(conn, "log")


def head(conn: Connection) -> tuple[int, str] | None:
    """The recorded head: the last position and its hash; None for an empty log."""
    row = conn.execute(select(log_head.c.seq, log_head.c.hash).where(log_head.c.id == 1)).first()
    return (row.seq, row.hash) if row else None


def append(conn: Connection, kind: str, actor: str, at: str, body: str, digest: Callable[[int, str], str], genesis: str) -> LogRow:
    """Append one entry after the head, inside the caller's write transaction; its position comes from the head.

    ``digest(seq, prev_hash)`` returns the entry's hash; ``genesis`` is the
    previous hash of the first entry.
    """
    lock_log(conn)
    current = head(conn)
    seq, prev = (current[0] + 1, current[1]) if current else (1, genesis)
    row = LogRow(seq, kind, at, actor, body, prev, digest(seq, prev))
    conn.execute(log.insert().values(**row.__dict__))
    moved = conn.execute(log_head.update().where(log_head.c.id == 1).values(seq=seq, hash=row.hash)).rowcount
    if not moved:
        conn.execute(log_head.insert().values(id=1, seq=seq, hash=row.hash))
    return row


def read_range(conn: Connection, after: int = 0, limit: int = PAGE) -> list[LogRow]:
    """Up to ``limit`` entries from position ``after + 1``, in order."""
    result = conn.execute(select(log).where(log.c.seq > after).order_by(log.c.seq).limit(limit))
    return [LogRow(**row._mapping) for row in result]


def entry(conn: Connection, seq: int) -> LogRow | None:
    row = conn.execute(select(log).where(log.c.seq == seq)).first()
    return LogRow(**row._mapping) if row else None


def size(conn: Connection) -> int:
    """How many entries the log holds (for checks against the head)."""
    return int(conn.execute(select(func.count()).select_from(log)).scalar_one())
