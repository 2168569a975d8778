"""The screening log: append-only, every entry chained to the one before it by its hash.

Each entry (a screening, a re-screening, a notice approved or exported) is
stored with the SHA-256 of the entry before it, and its own hash covers its
position, kind, time, actor, content and that previous hash, as in
certificate-transparency logs. Editing an entry breaks its own hash;
removing or reordering entries breaks the chain at the first entry that no
longer follows its predecessor; removing entries at the end is caught by the
recorded head (the last position and hash, kept beside the log and used as
the starting point of every append, so an append after a removal leaves a
visible gap). ``dossier-rules log verify`` walks the chain and names the first
entry that fails; its printed head hash can be kept elsewhere and compared
later with ``--expect-head``.

Appends happen inside the caller's write transaction, so a screening and its
log entry (or a notice approval and its entry) are stored together or not
at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection

from ..storage import log as rows
from .accounts import now_iso

GENESIS = "0" * 64
"""The previous hash of the first entry."""

KINDS = ("screening", "rescreening", "notice_approved", "notice_exported")


def canonical(body: dict[str, Any]) -> str:
    """The one text form of an entry's content that its hash covers (sorted keys, no spaces)."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()


def entry_hash(seq: int, kind: str, at: str, actor: str, prev_hash: str, body_text: str) -> str:
    return hashlib.sha256(orjson.dumps([seq, kind, at, actor, prev_hash, body_text])).hexdigest()


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str
    at: str
    actor: str
    body: str
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "at": self.at,
            "actor": self.actor,
            "body": orjson.loads(self.body),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Entry:
        """An exported entry, its content back in the canonical text its hash covers."""
        return cls(record["seq"], record["kind"], record["at"], record["actor"], canonical(record["body"]), record["prev_hash"], record["hash"])


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    head: str
    first_bad: int | None = None
    problem: str | None = None


def append(conn: Connection, kind: str, actor: str, body: dict[str, Any]) -> Entry:
    """Add an entry after the recorded head; call inside a write transaction (``Database.write``)."""
    assert kind in KINDS, kind
    at = now_iso()
    text = canonical(body)
    row = rows.append(conn, kind, actor, at, text, lambda seq, prev: entry_hash(seq, kind, at, actor, prev, text), GENESIS)
    return Entry(row.seq, row.kind, row.at, row.actor, row.body, row.prev_hash, row.hash)


def entries(conn: Connection, after: int = 0) -> Iterator[Entry]:
    """Entries in log order from position ``after + 1``, read in pages (bounded memory)."""
    while True:
        page = rows.read_range(conn, after)
        if not page:
            return
        for row in page:
            yield Entry(row.seq, row.kind, row.at, row.actor, row.body, row.prev_hash, row.hash)
        after = page[-1].seq


def entry(conn: Connection, seq: int) -> Entry | None:
    row = rows.entry(conn, seq)
    return Entry(row.seq, row.kind, row.at, row.actor, row.body, row.prev_hash, row.hash) if row else None


def head(conn: Connection) -> tuple[int, str] | None:
    return rows.head(conn)


def verify_chain(log: Iterable[Entry], recorded_head: tuple[int, str] | None = None) -> Verification:
    """Walk the chain; the first entry that was edited, removed or moved, and why."""
    prev, expected = GENESIS, 1
    for item in log:
        if item.seq != expected:
            where = f"entries {expected} to {item.seq - 1} are" if item.seq > expected + 1 else f"entry {expected} is"
            reason = f"{where} missing (removed)" if item.seq > expected else f"entry {item.seq} appears again after entry {expected - 1} (reordered)"
            return Verification(False, expected - 1, prev, expected, reason)
        if item.prev_hash != prev:
            return Verification(
                False,
                expected - 1,
                prev,
                item.seq,
                f"entry {item.seq} does not follow entry {item.seq - 1}: entries were removed or reordered, or entry {item.seq - 1} was rewritten",
            )
        if entry_hash(item.seq, item.kind, item.at, item.actor, item.prev_hash, item.body) != item.hash:
            return Verification(False, expected - 1, prev, item.seq, f"entry {item.seq} was edited: its content does not match its hash")
        prev, expected = item.hash, expected + 1
    count = expected - 1
    if recorded_head is not None and recorded_head != (count, prev):
        seq, _ = recorded_head
        if seq > count:
            return Verification(False, count, prev, count + 1, f"entries {count + 1} to {seq} are missing: the log ends before its recorded head")
        return Verification(False, count, prev, seq, f"the recorded head (entry {seq}) does not match the log")
    return Verification(True, count, prev)


def verify(conn: Connection) -> Verification:
    return verify_chain(entries(conn), head(conn))
