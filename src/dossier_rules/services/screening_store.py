"""Screening through the service: the batch pipeline's own ``screen_record``, each report stored in the log.

The service screens with exactly the code ``check`` and ``batch`` use
(:func:`dossier_rules.batch.screen_record`, the same engine), so a report or
error record from the API is the record the CLI would write for the same
input; only its ``source`` differs: ``api:S-…`` names the stored screening,
``body:N`` the line of a batch body that could not be screened.

Each report is stored with the dossier (or only its SHA-256 when the service
runs with ``--no-store-dossiers``), who screened it and when, and the hashes
of the packs and registries it was made with, as one entry of the hash-chained
log (:mod:`dossier_rules.services.screening_log`).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection

from .. import batch, redaction, storage
from ..engine import Engine
from ..errors import DossierError
from ..model import without_personal
from ..packs import PackSet
from ..results import Filter
from ..storage import log as log_rows
from ..storage import screenings as rows
from ..transparency.checkpoints import SigningKey
from . import screening_log

BATCH_CHUNK = 64
"""Records screened and stored per transaction by the batch endpoint (one log write per chunk)."""
MAX_PAGE = 100
"""Items per page of a listing."""
MAX_PAGE_BYTES = 256 * 1024
"""Bytes of summaries per page; a page stops early (with a cursor) rather than grow past it."""
MAX_SCAN = 500
"""Stored reports a listing with finding criteria (rule, article, intermediary, sector) decodes per page."""


class Counts(Protocol):
    """What the store reports each screening to: the service's metrics (``server.metrics.Metrics``), kept
    behind this protocol so the application layer does not import the interface that serves them."""

    def screened(self, record: dict[str, Any]) -> None: ...


class NotFound(DossierError):
    """A screening that is not there (``screening.not_found``) or whose dossier was not kept (``screening.dossier_not_stored``)."""


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

    db: storage.Database
    engine: Engine
    metrics: Counts
    store_dossiers: bool = True
    log_key: SigningKey | None = None
    """The screening log's signing key, for receipts (:mod:`dossier_rules.services.receipts`)."""

    # ----------------------------------------------------------------- screening

    def _record(self, raw: bytes, source: str, line: int | None, as_of: date | None) -> dict[str, Any]:
        record = batch.screen_record(self.engine, source, line, raw, as_of)
        self.metrics.screened(record)
        return record

    def _store(self, conn: Connection, actor: str, raw: bytes, report: dict[str, Any], kind: str = "screening", of: str | None = None) -> str:
        """Append one report to the log and index it; inside the caller's write transaction, under the log's lock."""
        at = datetime.now(UTC).replace(microsecond=0).isoformat()
        dossier = orjson.loads(raw) if self.store_dossiers else None
        log_rows.lock_log(conn)
        next_seq = (screening_log.head(conn) or (0, ""))[0] + 1
        sid = screening_id(next_seq)
        report["source"] = f"api:{sid}"
        report["generated_at"] = at
        body = {"screening_id": sid, "dossier_sha256": hashlib.sha256(raw).hexdigest(), "dossier": dossier, "report": report, "inputs": inputs_of(report)}
        if of is not None:
            body["rescreen_of"] = of
        entry = screening_log.append(conn, kind, actor, body)
        assert entry.seq == next_seq
        severities = [f.get("severity") for f in report.get("findings", ())]
        rows.insert(
            conn,
            id=sid,
            log_seq=entry.seq,
            actor=actor,
            screened_at=entry.at,
            dossier_id=report["dossier_id"],
            country=report["country"],
            kind=report["kind"],
            as_of=report["as_of"],
            submitted=report.get("submitted"),
            rescreen_of=of,
            outcome=report.get("outcome"),
            blocks=severities.count("block"),
            warnings=severities.count("warn"),
            infos=severities.count("info"),
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
                    assert raw is not None, "an item holds its record or its problem"
                    record = self._record(raw, source, line, as_of)
                records.append((raw, record))
            with self.db.write() as conn:
                for raw, record in records:
                    if raw is not None and "errors" not in record:
                        self._store(conn, actor, raw.rstrip(b"\r\n"), record)
            yield b"".join(orjson.dumps(record) + b"\n" for _, record in records)

    # ----------------------------------------------------------------- reading

    def stored(self, sid: str) -> dict[str, Any]:
        """The log entry of a screening: who, when, the dossier (or its hash), the report, the inputs."""
        item = None
        if seq_of(sid):
            with self.db.read() as conn:
                seq = rows.log_seq(conn, sid)
                item = screening_log.entry(conn, seq) if seq else None
        if item is None:
            raise NotFound("screening.not_found", screening_id=sid)
        return {"screening_id": sid, "screened_by": item.actor, "screened_at": item.at, "log_seq": item.seq, "log_hash": item.hash, **orjson.loads(item.body)}

    def summaries(
        self, chosen: Filter, actor: str | None, screened_from: date | None, screened_to: date | None, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of summaries, newest first, and the cursor of the next page (None on the last).

        A summary is id, dossier id, country, kind, outcome, counts of findings
        by severity, who and when: read from indexed columns, never from the
        stored report. Countries, kinds, outcomes, severities and dates are
        filtered in SQL; a criterion on findings (rule, article,
        intermediary, sector) needs the report, so such a page decodes at
        most :data:`MAX_SCAN` stored reports, one at a time, and may come back
        short with a cursor to continue. A page holds at most ``MAX_PAGE``
        items and about :data:`MAX_PAGE_BYTES` bytes.
        """
        limit = max(1, min(limit, MAX_PAGE))
        criteria = rows.Criteria(
            actor=actor,
            countries=chosen.countries,
            kinds=chosen.kinds,
            outcomes=chosen.outcomes,
            severities=chosen.severities,
            screened_from=screened_from,
            screened_to=screened_to,
            submitted_from=chosen.submitted_from,
            submitted_to=chosen.submitted_to,
            before_seq=seq_of(after) if after else None,
        )
        needs_report = bool(chosen.rules or chosen.articles or chosen.intermediaries or chosen.sectors)
        page: list[dict[str, Any]] = []
        size, examined, last_seen = 0, 0, ""
        with self.db.read() as conn:
            found = rows.with_bodies(conn, criteria, MAX_SCAN) if needs_report else iter(rows.summaries(conn, criteria, limit + 1))
            for row in found:
                if len(page) == limit or size > MAX_PAGE_BYTES:
                    return page, page[-1]["screening_id"]
                examined, last_seen = examined + 1, row["id"]
                if needs_report and not chosen.matches(orjson.loads(row["body"])["report"]):
                    continue
                page.append(summary(row))
                size += len(orjson.dumps(page[-1]))
        return page, last_seen if needs_report and examined == MAX_SCAN else None

    # ----------------------------------------------------------------- re-screening

    def rescreen(self, sid: str, as_of: date | None, actor: str) -> dict[str, Any]:
        """Screen a stored dossier again with the loaded packs and registries; old and new side by side."""
        old = self.stored(sid)
        if old["dossier"] is None:
            raise NotFound("screening.dossier_not_stored", screening_id=sid)
        raw = orjson.dumps(old["dossier"])
        when = as_of or date.fromisoformat(old["report"]["as_of"])
        record = self._record(raw, "body", None, when)
        if "errors" in record:
            return {"old": old["report"], "new": record, "changes": None}
        with self.db.write() as conn:
            new_id = self._store(conn, actor, raw, record, kind="rescreening", of=sid)
        return {"screening_id": new_id, "old": old["report"], "new": record, "changes": changes(old["report"], record)}


def summary(row: Any) -> dict[str, Any]:
    """What a listing shows of one stored screening (no personal data: the dossier is named by its id only)."""
    return {
        "screening_id": row["id"],
        "dossier_id": row["dossier_id"],
        "country": row["country"],
        "kind": row["kind"],
        "outcome": row["outcome"],
        "counts": {"block": row["blocks"], "warn": row["warnings"], "info": row["infos"]},
        "as_of": row["as_of"],
        "submitted": row["submitted"],
        "rescreen_of": row["rescreen_of"],
        "screened_by": row["actor"],
        "screened_at": row["screened_at"],
    }


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
