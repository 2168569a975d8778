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

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from .database import lock
from .schema import log, log_checkpoints, log_head, log_nodes

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


def has_hash(conn: Connection, digest: str) -> bool:
    """Whether an entry has this hash."""
    return conn.execute(select(log.c.seq).where(log.c.hash == digest).limit(1)).first() is not None


# the Merkle tree over the entries, and its signed checkpoints


def tree_size(conn: Connection) -> int:
    """How many leaves the tree has (entries may be ahead of it in a database from before the tree)."""
    last = conn.execute(select(func.max(log_nodes.c.idx)).where(log_nodes.c.level == 0)).scalar_one()
    return 0 if last is None else int(last) + 1


def node(conn: Connection, level: int, index: int) -> bytes | None:
    """The hash of the complete subtree ``index`` at ``level`` (level 0: a leaf); None if it is not stored."""
    row = conn.execute(select(log_nodes.c.hash).where(log_nodes.c.level == level, log_nodes.c.idx == index)).first()
    return bytes(row.hash) if row else None


def put_nodes(conn: Connection, nodes: Iterable[tuple[int, int, bytes]]) -> None:
    """Store the hashes of newly completed subtrees as (level, index, hash)."""
    values = [{"level": level, "idx": index, "hash": digest} for level, index, digest in nodes]
    if values:
        conn.execute(log_nodes.insert(), values)


def latest_note(conn: Connection) -> str | None:
    """The newest signed checkpoint (the one of the largest tree)."""
    row = conn.execute(select(log_checkpoints.c.note).order_by(log_checkpoints.c.size.desc()).limit(1)).first()
    return str(row.note) if row else None


def put_note(conn: Connection, size: int, note: str) -> None:
    conn.execute(log_checkpoints.insert().values(size=size, note=note))
