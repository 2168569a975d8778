"""Screening through the service: the batch pipeline's own ``screen_one``, each report stored in the log.

The service screens with exactly the code ``check`` and ``batch`` use
(:func:`dossier_rules.batch.screen_one`, the same engine), so a report or
error record from the API is the record the CLI would write for the same
input; only its ``source`` differs: ``api:S-…`` names the stored screening,
``body:N`` the line of a batch body that could not be screened.

Each report is stored with the dossier (or only its SHA-256 when the service
runs with ``--no-store-dossiers``), who screened it and when, and the hashes
of the packs and registries it was made with, as one entry of the hash-chained
log (:mod:`dossier_rules.server.screening_log`).
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from .. import batch, redaction
from ..engine import Engine
from ..model import without_personal
from ..packs import PackSet
from ..results import Filter
from . import screening_log
from .db import Database
from .metrics import Metrics

BATCH_CHUNK = 64
"""Records screened and stored per transaction by the batch endpoint (one log write per chunk)."""
MAX_PAGE = 100


class NotFound(Exception):
    pass


def screening_id(seq: int) -> str:
    return f"S-{seq:08d}"


def seq_of(sid: str) -> int | None:
    """The log position a screening id names, or None for anything that is not one."""
    if len(sid) == 10 and sid.startswith("S-") and sid[2:].isdigit():
        return int(sid[2:])
    return None


def inputs_of(report: dict[str, Any]) -> dict[str, Any]:
    """What a report was made with: the hashes of its packs and registries (and the date evaluated)."""
    return {
        "as_of": report["as_of"],
        "packs": [{"id": p["id"], "sha256": p["sha256"]} for p in report["packs"]],
        "registries": [{"kind": r["kind"], "country": r["country"], "sha256": r["sha256"]} for r in report["registries"]],
    }


def redact_report(report: dict[str, Any], packs: PackSet | None = None) -> dict[str, Any]:
    """A report without personal data in its findings (art. 3): :func:`dossier_rules.redaction.redact_report`.

    ``packs`` (the packs loaded) give each rule's message template, so only the
    personal values in a message are withheld; without them, whole messages are.
    """
    return redaction.redact_report(report, packs)


def redact(body: dict[str, Any], packs: PackSet | None = None) -> dict[str, Any]:
    """A stored screening without candidates' identity (art. 3): for roles the team's policy does not allow."""
    out = dict(body)
    if isinstance(out.get("dossier"), dict):
        out["dossier"] = without_personal(out["dossier"])
    out["report"] = redact_report(out["report"], packs)
    out["redacted"] = True
    return out


@dataclass
class Screenings:
    """Screen, store, read back, list and re-screen; one instance per app (``app.state.screenings``)."""

    db: Database
    engine: Engine
    metrics: Metrics
    store_dossiers: bool = True

    # ----------------------------------------------------------------- screening

    def _record(self, raw: bytes, source: str, line: int | None, as_of: date | None) -> dict[str, Any]:
        record = batch.screen_one(self.engine, source, line, raw, as_of)
        self.metrics.screened(record)
        return record

    def _store(self, conn: sqlite3.Connection, actor: str, raw: bytes, report: dict[str, Any], kind: str = "screening", of: str | None = None) -> str:
        """Append one report to the log and index it; inside the caller's write transaction."""
        at = datetime.now(UTC).replace(microsecond=0).isoformat()
        dossier = orjson.loads(raw) if self.store_dossiers else None
        next_seq = (screening_log.head(conn) or (0, ""))[0] + 1
        sid = screening_id(next_seq)
        report["source"] = f"api:{sid}"
        report["generated_at"] = at
        body = {"screening_id": sid, "dossier_sha256": hashlib.sha256(raw).hexdigest(), "dossier": dossier, "report": report, "inputs": inputs_of(report)}
        if of is not None:
            body["rescreen_of"] = of
        entry = screening_log.append(conn, kind, actor, body)
        assert entry.seq == next_seq
        conn.execute(
            "INSERT INTO screenings (id, log_seq, actor, screened_at, dossier_id, country, kind, as_of, submitted, rescreen_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sid, entry.seq, actor, entry.at, report["dossier_id"], report["country"], report["kind"], report["as_of"], report.get("submitted"), of),
        )
        return sid

    def screen(self, raw: bytes, as_of: date | None, actor: str) -> dict[str, Any]:
        """One dossier: its stored report, or the error record (not stored) when it cannot be screened."""
        record = self._record(raw, "body", None, as_of)
        if "errors" in record:
            return record
        with self.db.write() as conn:
            self._store(conn, actor, raw, record)
        return record

    def screen_many(self, body: bytes, as_of: date | None, actor: str) -> Iterator[bytes]:
        """One output line per record of a JSON Lines body, in order; reports stored a chunk at a time."""
        items = batch.jsonl_items(io.BytesIO(body), "body")
        for chunk in batch.chunks(items, BATCH_CHUNK):
            records = []
            for source, line, raw, problem in chunk:
                if problem is not None:
                    record = batch.error_record(batch.label(source, line), [problem])
                    self.metrics.screened(record)
                else:
                    record = self._record(raw, source, line, as_of)  # type: ignore[arg-type]
                records.append((raw, record))
            with self.db.write() as conn:
                for raw, record in records:
                    if "errors" not in record:
                        self._store(conn, actor, raw.rstrip(b"\r\n"), record)  # type: ignore[union-attr]
            yield b"".join(orjson.dumps(record) + b"\n" for _, record in records)

    # ----------------------------------------------------------------- reading

    def stored(self, sid: str) -> dict[str, Any]:
        """The log entry of a screening: who, when, the dossier (or its hash), the report, the inputs."""
        seq = seq_of(sid)
        conn = self.db.connection()
        row = conn.execute("SELECT log_seq FROM screenings WHERE id = ?", (sid,)).fetchone() if seq else None
        item = screening_log.entry(conn, row["log_seq"]) if row else None
        if item is None:
            raise NotFound(f"no screening {sid}")
        return {"screening_id": sid, "screened_by": item.actor, "screened_at": item.at, "log_seq": item.seq, "log_hash": item.hash, **orjson.loads(item.body)}

    def listing(
        self, chosen: Filter, actor: str | None, screened_from: date | None, screened_to: date | None, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of stored screenings, newest first, that the filter selects; and the cursor of the next page.

        The service narrows by the columns it indexes (user, screening date,
        cursor); the report criteria are :class:`dossier_rules.results.Filter`'s,
        the same as ``dossier-rules report``.
        """
        limit = max(1, min(limit, MAX_PAGE))
        query = "SELECT s.id, l.actor, l.at, l.body FROM screenings s JOIN log l ON l.seq = s.log_seq WHERE 1=1"
        params: list[str | int] = []
        if actor:
            query += " AND s.actor = ?"
            params.append(actor)
        if screened_from:
            query += " AND s.screened_at >= ?"
            params.append(screened_from.isoformat())
        if screened_to:
            query += " AND s.screened_at < date(?, '+1 day')"
            params.append(screened_to.isoformat())
        if chosen.countries:
            query += f" AND s.country IN ({','.join('?' * len(chosen.countries))})"
            params.extend(sorted(chosen.countries))
        cursor_seq = seq_of(after) if after else None
        if cursor_seq:
            query += " AND s.log_seq < ?"
            params.append(cursor_seq)
        query += " ORDER BY s.log_seq DESC"
        page: list[dict[str, Any]] = []
        conn = self.db.connection()
        for row in conn.execute(query, params):
            body = orjson.loads(row["body"])
            if chosen.matches(body["report"]):
                page.append({"screening_id": row["id"], "screened_by": row["actor"], "screened_at": row["at"], **body})
                if len(page) > limit:
                    break
        more = len(page) > limit
        page = page[:limit]
        return page, (page[-1]["screening_id"] if more else None)

    # ----------------------------------------------------------------- re-screening

    def rescreen(self, sid: str, as_of: date | None, actor: str) -> dict[str, Any]:
        """Screen a stored dossier again with the loaded packs and registries; old and new side by side."""
        old = self.stored(sid)
        if old["dossier"] is None:
            raise NotFound(f"screening {sid} kept only the dossier's SHA-256 (the service runs with --no-store-dossiers): nothing to re-screen")
        raw = orjson.dumps(old["dossier"])
        when = as_of or date.fromisoformat(old["report"]["as_of"])
        record = self._record(raw, "body", None, when)
        if "errors" in record:
            return {"old": old["report"], "new": record, "changes": None}
        with self.db.write() as conn:
            new_id = self._store(conn, actor, raw, record, kind="rescreening", of=sid)
        return {"screening_id": new_id, "old": old["report"], "new": record, "changes": changes(old["report"], record)}


def _finding_key(finding: dict[str, Any]) -> str:
    return orjson.dumps([finding["rule_id"], finding.get("item"), finding["evidence"]], option=orjson.OPT_SORT_KEYS).decode()


def changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What differs between two reports of one dossier: findings added and removed, outcome, inputs."""
    before = {_finding_key(f): f for f in old["findings"]}
    after = {_finding_key(f): f for f in new["findings"]}
    return {
        "outcome": {"old": old.get("outcome"), "new": new.get("outcome")},
        "added": [after[k] for k in after if k not in before],
        "removed": [before[k] for k in before if k not in after],
        "unchanged": sum(1 for k in after if k in before),
        "inputs_changed": inputs_of(old) != inputs_of(new),
        "old_inputs": inputs_of(old),
        "new_inputs": inputs_of(new),
    }
