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
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from .accounts import now_iso

GENESIS = "0" * 64
"""The previous hash of the first entry."""

KINDS = ("screening", "rescreening", "notice_approved", "notice_exported", "notice_previewed")


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


def append(conn: sqlite3.Connection, kind: str, actor: str, body: dict[str, Any]) -> Entry:
    """Add an entry after the recorded head; call inside a write transaction (``Database.write``)."""
    assert kind in KINDS, kind
    head = conn.execute("SELECT seq, hash FROM log_head WHERE id = 1").fetchone()
    seq, prev = (head["seq"] + 1, head["hash"]) if head else (1, GENESIS)
    at = now_iso()
    text = canonical(body)
    digest = entry_hash(seq, kind, at, actor, prev, text)
    conn.execute("INSERT INTO log (seq, kind, at, actor, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)", (seq, kind, at, actor, text, prev, digest))
    conn.execute("INSERT INTO log_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash", (seq, digest))
    return Entry(seq, kind, at, actor, text, prev, digest)


def entries(conn: sqlite3.Connection, after: int = 0) -> Iterator[Entry]:
    """Entries in log order from position ``after + 1``, read in pages (bounded memory)."""
    while True:
        rows = conn.execute("SELECT * FROM log WHERE seq > ? ORDER BY seq LIMIT 500", (after,)).fetchall()
        if not rows:
            return
        for row in rows:
            yield Entry(row["seq"], row["kind"], row["at"], row["actor"], row["body"], row["prev_hash"], row["hash"])
        after = rows[-1]["seq"]


def entry(conn: sqlite3.Connection, seq: int) -> Entry | None:
    row = conn.execute("SELECT * FROM log WHERE seq = ?", (seq,)).fetchone()
    return Entry(row["seq"], row["kind"], row["at"], row["actor"], row["body"], row["prev_hash"], row["hash"]) if row else None


def head(conn: sqlite3.Connection) -> tuple[int, str] | None:
    row = conn.execute("SELECT seq, hash FROM log_head WHERE id = 1").fetchone()
    return (row["seq"], row["hash"]) if row else None


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


def verify(conn: sqlite3.Connection) -> Verification:
    return verify_chain(entries(conn), head(conn))
