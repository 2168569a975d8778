"""The screening log: an append-only Merkle tree of entries, with signed checkpoints a witness can keep.

Each entry (a screening, a re-screening, a notice approved or exported) is a
leaf of an RFC 6962 Merkle tree, as in certificate-transparency logs: its leaf
hash is SHA-256 of 0x00 and :func:`leaf_data` (the entry's position, kind,
time, actor, the hash of the entry before it and its content). The service
signs **checkpoints** (origin, tree size, root hash, time) with an Ed25519 key
kept outside the database (:mod:`dossier_rules.transparency.checkpoints`). A
witness that keeps a checkpoint can later prove that nothing it covers was
rewritten, removed, reordered or cut off, even by someone who can write the
database: the entries no longer hash to its root, or the log is shorter than
it (``dossier-rules log verify --checkpoint``); and that a newer checkpoint
extends the one it kept (a consistency proof).

Each entry still carries the hash chain of earlier versions (``prev_hash``,
``hash``, and the recorded head), which names the first edited entry when the
edit was careless; the tree and the checkpoints are what a third party relies on.

Checkpoints are signed on demand, not per entry: when a receipt or the latest
checkpoint is asked for and the tree has grown since the last one, one
signature covers everything appended so far (a batch of a thousand screenings
costs one signature). They are kept in ``log_checkpoints`` so a receipt can be
reproduced; the hashes of every complete subtree are kept in ``log_nodes`` so
any proof takes a logarithmic number of reads. A database written before the
tree existed gets its leaves at the next append or checkpoint.

Appends happen inside the caller's write transaction, so a screening and its
log entry (or a notice approval and its entry) are stored together or not at
all. Every SQL statement is in the small functions under "storage" below.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection

from ..locale import N_, _
from ..storage import log as rows
from ..storage import now_iso
from ..transparency import merkle
from ..transparency.checkpoints import Checkpoint, NoteError, SigningKey, VerifierKey, open_checkpoint, read_unverified, sign_checkpoint

GENESIS = "0" * 64
"""The previous hash of the first entry."""

KINDS = (
    "screening",
    "rescreening",
    "notice_approved",
    "notice_exported",
    "notice_previewed",
    "notice_sent",
    "notice_answered",
    "notice_closed",
    "notice_withdrawn",
    "communication_received",
    "inquiry_answered",
    "dispatch_drafted",
    "dispatch_approved",
    "dispatch_sent",
    "dispatch_answered",
    "dispatch_closed",
    "dispatch_withdrawn",
)
STORED = N_("the newest checkpoint in the database")
WITNESS = N_("the witness's checkpoint")
PAGE = 500
"""Entries read at a time when walking the log (bounded memory)."""


def canonical(body: dict[str, Any]) -> str:
    """The one text form of an entry's content that its hashes cover (sorted keys, no spaces)."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()


def _entry_bytes(seq: int, kind: str, at: str, actor: str, prev_hash: str, body_text: str) -> bytes:
    return orjson.dumps([seq, kind, at, actor, prev_hash, body_text])


def entry_hash(seq: int, kind: str, at: str, actor: str, prev_hash: str, body_text: str) -> str:
    return hashlib.sha256(_entry_bytes(seq, kind, at, actor, prev_hash, body_text)).hexdigest()


@dataclass(frozen=True)
class LogEntry:
    seq: int
    kind: str
    at: str
    actor: str
    body: str
    prev_hash: str
    hash: str

    @property
    def leaf_index(self) -> int:
        """The entry's leaf in the tree: entry 1 is leaf 0."""
        return self.seq - 1

    def leaf_data(self) -> bytes:
        """The bytes the entry's leaf hash covers: the JSON array [seq, kind, at, actor, prev_hash, body text]."""
        return _entry_bytes(self.seq, self.kind, self.at, self.actor, self.prev_hash, self.body)

    def leaf_hash(self) -> bytes:
        return merkle.leaf_hash(self.leaf_data())

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
    def from_json(cls, record: Any) -> LogEntry:
        """An exported entry, its content back in the canonical text its hashes cover; TypeError naming what is wrong."""
        if not isinstance(record, dict):
            raise TypeError(_("expected a JSON object"))
        for name in ("seq", "kind", "at", "actor", "body", "prev_hash", "hash"):
            if name not in record:
                raise TypeError(_("/{name} is missing", name=name))
        if type(record["seq"]) is not int or record["seq"] < 1:
            raise TypeError(_("/seq: expected a whole number from 1"))
        for name in ("kind", "at", "actor", "prev_hash", "hash"):
            if not isinstance(record[name], str):
                raise TypeError(_("/{name}: expected a string", name=name))
        return cls(record["seq"], record["kind"], record["at"], record["actor"], canonical(record["body"]), record["prev_hash"], record["hash"])


@dataclass(frozen=True)
class Receipt:
    """What a client keeps for one entry: where it is, its leaf hash, a signed checkpoint including it and the proof."""

    entry: int
    leaf_index: int
    leaf_hash: bytes
    checkpoint: str
    tree_size: int
    inclusion_proof: list[bytes]

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "leaf_index": self.leaf_index,
            "leaf_hash": self.leaf_hash.hex(),
            "tree_size": self.tree_size,
            "inclusion_proof": [p.hex() for p in self.inclusion_proof],
            "checkpoint": self.checkpoint,
        }


# ----------------------------------------------------------------- storage (the log's rows, in dossier_rules.storage.log)


def _entry(row: rows.LogRow) -> LogEntry:
    return LogEntry(row.seq, row.kind, row.at, row.actor, row.body, row.prev_hash, row.hash)


def _entry_page(conn: Connection, after: int, limit: int) -> list[LogEntry]:
    return [_entry(row) for row in rows.read_range(conn, after, limit)]


def _node(conn: Connection, level: int, index: int) -> bytes:
    digest = rows.node(conn, level, index)
    if digest is None:
        raise LookupError(_("the tree has no node {level}/{index}: run dossier-rules log verify", level=level, index=index))
    return digest


# ----------------------------------------------------------------- appending


def append(conn: Connection, kind: str, actor: str, body: dict[str, Any]) -> LogEntry:
    """Add an entry after the recorded head, and its leaf to the tree; call inside a write transaction (``Database.write``)."""
    assert kind in KINDS, kind
    at = now_iso()
    text = canonical(body)
    item = _entry(rows.append(conn, kind, actor, at, text, lambda seq, prev: entry_hash(seq, kind, at, actor, prev, text), GENESIS))
    with contextlib.suppress(LookupError):  # an entry before it is gone: the tree stays behind, checkpoints refuse, log verify names the gap
        _grow_tree(conn, item)
    return item


def _frontier(conn: Connection) -> merkle.Frontier:
    size = rows.tree_size(conn)
    return merkle.Frontier(size, [_node(conn, level, index) for level, index in merkle.decomposition(size)])


def _grow_tree(conn: Connection, newest: LogEntry | None = None) -> int:
    """Give every entry up to the recorded head its leaf (older databases catch up here); the tree size."""
    frontier = _frontier(conn)
    last = (rows.head(conn) or (0, ""))[0]
    while frontier.size < last:
        if newest is not None and frontier.size == newest.seq - 1:
            page = [newest]
        else:
            page = _entry_page(conn, frontier.size, PAGE)
        if not page or page[0].seq != frontier.size + 1:
            raise LookupError(_("entry {seq} is missing: the tree cannot grow past it (run dossier-rules log verify)", seq=frontier.size + 1))
        for item in page:
            if item.seq != frontier.size + 1 or item.seq > last:
                break
            rows.put_nodes(conn, frontier.append(item.leaf_hash()))
    return frontier.size


def append_with_receipt(conn: Connection, kind: str, actor: str, body: dict[str, Any], key: SigningKey) -> tuple[LogEntry, Receipt]:
    """:func:`append`, then the entry's :func:`receipt` (one signature per call: for many entries, append them all first)."""
    item = append(conn, kind, actor, body)
    return item, receipt(conn, item.seq, key)


def checkpoint(conn: Connection, key: SigningKey) -> str:
    """The signed checkpoint of the whole log, signing a new one if the tree grew; inside a write transaction.

    It takes the log's lock first: with several processes, the tree and its
    checkpoints grow in one order, as the entries do.
    """
    rows.lock_log(conn)
    size = _grow_tree(conn)
    latest = rows.latest_note(conn)
    signed = read_unverified(latest).size if latest is not None else -1
    if latest is not None and signed == size:
        return latest
    if signed > size:
        raise LookupError(
            _("the log has {count} entries, fewer than its newest checkpoint covers ({size}): run dossier-rules log verify", count=size, size=signed)
        )
    note = sign_checkpoint(key, size, merkle.root(size, lambda level, index: _node(conn, level, index)), now_iso())
    rows.put_note(conn, size, note)
    return note


def receipt(conn: Connection, seq: int, key: SigningKey) -> Receipt:
    """The receipt of entry ``seq`` (appended earlier, maybe in this transaction); inside a write transaction."""
    note = checkpoint(conn, key)
    size = read_unverified(note).size
    if not 1 <= seq <= size:
        raise LookupError(_("no entry {seq}", seq=seq))
    index = seq - 1
    return Receipt(seq, index, _node(conn, 0, index), note, size, inclusion(conn, index, size))


# ----------------------------------------------------------------- reading


def entries(conn: Connection, after: int = 0) -> Iterator[LogEntry]:
    """Entries in log order from position ``after + 1``, read in pages (bounded memory)."""
    while page := _entry_page(conn, after, PAGE):
        yield from page
        after = page[-1].seq


def contains_hash(conn: Connection, digest: str) -> bool:
    """Whether an entry has this hash (``log verify --expect-head``, once the entries are known to be intact)."""
    return rows.has_hash(conn, digest)


def entry(conn: Connection, seq: int) -> LogEntry | None:
    return _entry(found) if (found := rows.entry(conn, seq)) else None


def head(conn: Connection) -> tuple[int, str] | None:
    return rows.head(conn)


def latest_checkpoint(conn: Connection) -> str | None:
    """The newest checkpoint the log signed (it may lag the newest entries until the next one is asked for)."""
    return rows.latest_note(conn)


def _checked_size(conn: Connection, size: int) -> None:
    if size > rows.tree_size(conn):
        raise LookupError(_("the tree has fewer than {size} entries", size=size))


def inclusion(conn: Connection, index: int, size: int) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 section 2.1.3)."""
    _checked_size(conn, size)
    return merkle.inclusion_proof(index, size, lambda level, i: _node(conn, level, i))


def consistency(conn: Connection, first: int, second: int) -> list[bytes]:
    """The consistency proof from the tree of ``first`` leaves to the tree of ``second`` (RFC 9162 section 2.1.4)."""
    _checked_size(conn, second)
    return merkle.consistency_proof(first, second, lambda level, i: _node(conn, level, i))


def leaf(conn: Connection, index: int) -> bytes:
    return _node(conn, 0, index)


# ----------------------------------------------------------------- verifying


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    head: str
    first_bad: int | None = None
    problem: str | None = None
    root: str | None = None
    """The root hash of all the entries read (hex), when they were all read."""


@dataclass
class _Walk:
    """The state of a walk over the log: the chain so far and the tree of the entries read."""

    prev: str = GENESIS
    expected: int = 1
    frontier: merkle.Frontier = field(default_factory=merkle.Frontier)
    roots: dict[int, bytes] = field(default_factory=dict)

    def broken(self, first_bad: int, problem: str) -> Verification:
        return Verification(False, self.expected - 1, self.prev, first_bad, problem)


def _chain_problem(item: LogEntry, walk: _Walk) -> Verification | None:
    expected = walk.expected
    if item.seq != expected:
        if item.seq == expected + 1:
            return walk.broken(expected, _("entry {seq} is missing (removed)", seq=expected))
        if item.seq > expected:
            return walk.broken(expected, _("entries {first} to {last} are missing (removed)", first=expected, last=item.seq - 1))
        return walk.broken(expected, _("entry {seq} appears again after entry {before} (reordered)", seq=item.seq, before=expected - 1))
    if item.prev_hash != walk.prev:
        problem = _("entry {seq} does not follow entry {before}: entries were removed or reordered, or entry {before} was rewritten")
        return walk.broken(item.seq, problem.format(seq=item.seq, before=item.seq - 1))
    if entry_hash(item.seq, item.kind, item.at, item.actor, item.prev_hash, item.body) != item.hash:
        return walk.broken(item.seq, _("entry {seq} was edited: its content does not match its hash", seq=item.seq))
    return None


def verify_chain(log: Iterable[LogEntry], recorded_head: tuple[int, str] | None = None, checkpoints: Sequence[tuple[str, Checkpoint]] = ()) -> Verification:
    """Walk the log; the first entry that was edited, removed or moved, and why; then each checkpoint against the tree.

    ``checkpoints`` are (who kept it, checkpoint) pairs, e.g. a witness's and
    the newest one the database holds: each must cover no more entries than the
    log has, and the tree of the entries it covers must have its root.
    """
    sizes = {cp.size for _who, cp in checkpoints}
    walk = _Walk(roots={0: merkle.EMPTY_ROOT} if 0 in sizes else {})
    for item in log:
        problem = _chain_problem(item, walk)
        if problem is not None:
            return problem
        walk.frontier.append(item.leaf_hash())
        if walk.frontier.size in sizes:
            walk.roots[walk.frontier.size] = walk.frontier.root()
        walk.prev, walk.expected = item.hash, walk.expected + 1
    count = walk.expected - 1
    if recorded_head is not None and recorded_head != (count, walk.prev):
        seq = recorded_head[0]
        if seq > count:
            return walk.broken(count + 1, _("entries {first} to {last} are missing: the log ends before its recorded head", first=count + 1, last=seq))
        return walk.broken(seq, _("the recorded head (entry {seq}) does not match the log", seq=seq))
    for who, cp in checkpoints:
        if cp.size > count:
            message = _("the log has {count} entries but {checkpoint} covers {size}: entries {first} to {size} were removed")
            return walk.broken(count + 1, message.format(count=count, checkpoint=_(who), size=cp.size, first=count + 1))
        if walk.roots[cp.size] != cp.root:
            message = _("the first {size} entries do not hash to the root of {checkpoint}: an entry it covers was rewritten, removed or reordered")
            return walk.broken(1, message.format(size=cp.size, checkpoint=_(who)))
    return Verification(True, count, walk.prev, root=walk.frontier.root().hex())


def stored_checkpoint(conn: Connection, key: VerifierKey | None) -> Checkpoint | None:
    """The newest checkpoint in the database, its signature checked when ``key`` is given (NoteError if it fails)."""
    note = rows.latest_note(conn)
    if note is None:
        return None
    return open_checkpoint(note, key) if key is not None else read_unverified(note)


def verify(conn: Connection, witness: Checkpoint | None = None, key: VerifierKey | None = None) -> Verification:
    """The database's log: its chain, its recorded head, its newest stored checkpoint and a witness's checkpoint."""
    try:
        stored = stored_checkpoint(conn, key)
    except NoteError as exc:
        return Verification(False, 0, GENESIS, None, _("the newest checkpoint in the database is not the log's: {reason}", reason=exc))
    checks = [(STORED, stored)] if stored is not None else []
    if witness is not None:
        checks.append((WITNESS, witness))
    return verify_chain(entries(conn), head(conn), checks)
