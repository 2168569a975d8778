"""The outbox of notices: build drafts from reports, list, approve and export them, each change in one transaction.

In a SQLite file of its own (``share``) or in the service's database (SQLite or
PostgreSQL); its SQL is in :mod:`dossier_rules.storage.notices`. A run that is
killed leaves the outbox as it was after the last whole report, and running it
again completes the work. Nothing leaves the outbox unless someone approved it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from .. import redaction, storage
from ..errors import DossierError
from ..locale import _
from ..packs import PackSet
from ..problems import Problem
from ..report import Finding, Report
from ..results import intermediary_key
from ..status import pack_status
from ..storage import notices as rows
from .compose import finding_key, group_key, identity_of, notice_header, notice_id, provenance_problem, withheld_message
from .model import Notice, NoticeDossier, NoticeFinding
from .reports import read_reports

Recorder = Callable[[Connection, str], None]
"""Called with the outbox's connection and a notice id inside an approval's or export's transaction."""


# --------------------------------------------------------------------------- choosing notices


@dataclass(frozen=True)
class NoticeFilter:
    """Which notices to list, approve or export; empty criteria select everything.

    Each criterion is a set of accepted values; criteria combine with AND.
    ``intermediaries`` match the party a notice is about by id, or by name
    ignoring case and spacing (as notices are grouped); ``created_from`` and
    ``created_to`` are inclusive dates of creation.
    """

    countries: frozenset[str] = frozenset()
    acts: frozenset[str] = frozenset()
    states: frozenset[str] = frozenset()
    intermediaries: frozenset[str] = frozenset()
    created_from: date | None = None
    created_to: date | None = None

    @property
    def empty_except_state(self) -> bool:
        """Whether nothing but the state is chosen (bulk commands refuse to act on every notice by accident)."""
        return not (self.countries or self.acts or self.intermediaries or self.created_from or self.created_to)

    def criteria(self) -> rows.Criteria:
        """The same choice as the storage's criteria (intermediaries as the keys notices are grouped by)."""
        keys = frozenset(k for wanted in self.intermediaries for k in (intermediary_key({"id": wanted}), intermediary_key({"name": wanted})))
        return rows.Criteria(self.countries, self.acts, self.states, keys, self.created_from, self.created_to)


# --------------------------------------------------------------------------- the outbox


@dataclass(frozen=True)
class HeldBack:
    """Findings of one report that were not turned into notices: its MOC was not in force on its as-of date."""

    source: str
    dossier_id: str
    country: str
    state: str
    findings: int


@dataclass
class BuildResult:
    """What a build did: notices created, open drafts extended (and which dossiers joined them), findings already in, reports held back."""

    created: list[str]
    extended: list[str]
    duplicates: int
    problems: list[Problem]
    held_back: list[HeldBack] = field(default_factory=list)
    added: set[tuple[str, str]] = field(default_factory=set)
    """(notice id, dossier id): a dossier this build added to a draft that was open before it."""

    def held_back_by_reason(self) -> dict[tuple[str, str], tuple[int, int]]:
        """Held-back reports and their findings, counted by (country, state of its MOC on the report's date)."""
        counts: dict[tuple[str, str], tuple[int, int]] = {}
        for held in self.held_back:
            reports, findings = counts.get((held.country, held.state), (0, 0))
            counts[(held.country, held.state)] = (reports + 1, findings + held.findings)
        return dict(sorted(counts.items()))


class OutboxError(DossierError):
    """An operation the outbox refuses (unknown notice, export before approval, ...): a typed error (``notice.*``)."""


class Outbox:
    """The outbox of notices: in a SQLite file of its own, or in the service's database."""

    def __init__(self, source: Path | storage.Database):
        """Open (and create) the outbox file at a path, or use the service's open database (not closed by :meth:`close`)."""
        self.db = source if isinstance(source, storage.Database) else storage.Database(source)
        self._owned = not isinstance(source, storage.Database)
        self.path = self.db.where

    def close(self) -> None:
        if self._owned:
            self.db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- build

    def build(self, packset: PackSet, sources: Iterable[Path], with_personal_data: bool = False) -> BuildResult:
        """Add the share-marked findings of the reports in report files; one transaction per report."""
        return self.add_reports(packset, read_reports(sources), with_personal_data)

    def add_reports(self, packset: PackSet, reports: Iterable[tuple[str, Report | list[Problem]]], with_personal_data: bool = False) -> BuildResult:
        """Add the share-marked findings of reports (or record the problems of unreadable ones); the service calls this too."""
        result = BuildResult([], [], 0, [])
        for source, report in reports:
            if isinstance(report, list):
                result.problems.extend(report)
                continue
            if report.pack_status.state != "in_force":
                acts = [f for f in report.findings if f.act]
                if acts:  # no notice without a MOC in force (art. 3): whatever the report says about sharing
                    result.held_back.append(HeldBack(source, report.dossier_id, report.country, report.pack_status.state, len(acts)))
                continue
            shared = [f for f in report.findings if f.share and f.act]
            if not shared:
                continue
            pack = packset.packs.get(report.pack)
            if pack is None or pack.country != report.country:
                result.problems.append(
                    Problem(
                        source,
                        _("report {id} names pack '{pack}', which is not loaded for {country}", id=report.dossier_id, pack=report.pack, country=report.country),
                        kind="no_pack",
                    )
                )
                continue
            untrusted = provenance_problem(pack, report, shared, source)
            if untrusted is not None:
                result.problems.append(untrusted)
                continue
            identity = None
            if with_personal_data:
                identity, problem = identity_of(report, source)
                if problem is not None:
                    result.problems.append(problem)
                    continue
            with self.db.write() as conn:
                rows.lock_outbox(conn)
                for finding in shared:
                    self._add(conn, pack, report, finding, identity, result, with_personal_data)
        return result

    def _add(
        self, conn: Connection, pack: Any, report: Report, finding: Finding, identity: dict[str, Any] | None, result: BuildResult, personal: bool = False
    ) -> None:
        fkey = finding_key(report, finding)
        if rows.has_item(conn, fkey):
            result.duplicates += 1
            return
        gkey = group_key(report, finding)
        last = rows.last_of_group(conn, gkey)
        if last is not None and last["state"] == "draft":
            nid = last["id"]
            if nid not in result.created:
                if nid not in result.extended:
                    result.extended.append(nid)
                if (nid, report.dossier_id) not in result.added and not rows.has_dossier(conn, nid, report.dossier_id):
                    result.added.add((nid, report.dossier_id))
        else:
            seq = last["seq"] + 1 if last else 1
            nid = notice_id(report.country, finding.act or "", gkey, seq)
            header = notice_header(pack, report, finding)
            rows.insert_notice(
                conn,
                id=nid,
                group_key=gkey,
                seq=seq,
                country=report.country,
                act=finding.act,
                header=json.dumps(header, ensure_ascii=False),
                state="draft",
                created_at=storage.now_iso(),
            )
            result.created.append(nid)
        body = {
            "dossier_id": report.dossier_id,
            "kind": report.kind,
            "submitted_as_of": report.as_of.isoformat(),
            "identity": identity,
            "finding": {
                "rule_id": finding.rule_id,
                "article": finding.article,
                "severity": finding.severity,
                "title": finding.title.model_dump(),
                "message": finding.message.model_dump() if personal else withheld_message(pack, finding),
                "evidence": finding.evidence if personal else redaction.without_personal_evidence(finding.evidence),
                "basis": finding.basis.model_dump() if finding.basis is not None else None,
            },
        }
        rows.insert_item(
            conn, finding_key=fkey, notice_id=nid, dossier_id=report.dossier_id, body=json.dumps(body, ensure_ascii=False), added_at=storage.now_iso()
        )

    # ----------------------------------------------------------------- read

    def notices(self, state: str | None = None, chosen: NoticeFilter | None = None) -> list[dict[str, Any]]:
        """The notices (with their dossier and finding counts) in a stable order, as ``chosen`` selects them."""
        chosen = chosen or NoticeFilter()
        if state:
            chosen = NoticeFilter(**{**chosen.__dict__, "states": frozenset([state])})
        with self.db.read() as conn:
            return rows.listing(conn, chosen.criteria())

    def notice(self, nid: str) -> Notice:
        with self.db.read() as conn:
            row = rows.notice(conn, nid)
            bodies = rows.item_bodies(conn, nid) if row else []
        if row is None:
            raise OutboxError("notice.not_found", notice_id=nid)
        header = json.loads(row["header"])
        dossiers: dict[str, NoticeDossier] = {}
        for text in bodies:
            body = json.loads(text)
            entry = dossiers.setdefault(
                body["dossier_id"],
                NoticeDossier(
                    dossier_id=body["dossier_id"], kind=body["kind"], submitted_as_of=body["submitted_as_of"], findings=[], identity=body["identity"]
                ),
            )
            entry.findings.append(NoticeFinding(**body["finding"]))
        for entry in dossiers.values():
            entry.findings.sort(key=lambda f: (f.rule_id, json.dumps(f.evidence, sort_keys=True)))
        return Notice(
            notice_id=row["id"],
            state=row["state"],
            country=row["country"],
            act=row["act"],
            dossiers=list(dossiers.values()),
            created_at=row["created_at"],
            approved_by=row["approved_by"],
            approved_at=row["approved_at"],
            exported_at=row["exported_at"],
            **header,
        )

    # ----------------------------------------------------------------- the approval gate

    def approve(self, nid: str, by: str, then: Recorder | None = None) -> Notice:
        """Approve a draft; ``then`` runs inside the approval's transaction (the service logs it there)."""
        if not by.strip():
            raise OutboxError("notice.approver_missing")
        with self.db.write() as conn:
            if not rows.approve(conn, nid, by.strip(), storage.now_iso()):
                current = rows.state(conn, nid)
                if current is None:
                    raise OutboxError("notice.not_found", notice_id=nid)
                raise OutboxError("notice.not_draft", notice_id=nid, state=current)
            if then is not None:
                then(conn, nid)
        return self.notice(nid)

    def export(self, nid: str, packset: PackSet, on: date, then: Recorder | None = None) -> Notice:
        """Mark an approved notice exported and return it; a draft never leaves the outbox.

        Nor does a notice to a partner whose MOC is not in force on ``on`` (the export date): without the
        MOC there is no basis for sending it, and art. 3 makes sending it a disclosure.
        ``then`` runs inside the export's transaction, on every export (a re-export lets the notice out again).
        """
        notice = self.notice(nid)
        if notice.state == "draft":
            raise OutboxError("notice.is_draft", notice_id=nid)
        pack = packset.for_country(notice.country)
        if pack is None:
            raise OutboxError("notice.no_pack", notice_id=nid, country=notice.country)
        status = pack_status(pack, on)
        if status["state"] != "in_force":
            raise OutboxError("notice.not_in_force", notice_id=nid, country=notice.country, on=on.isoformat(), state=status["state"], detail=status["detail"])
        with self.db.write() as conn:
            rows.mark_exported(conn, nid, storage.now_iso())
            if then is not None:
                then(conn, nid)
        return self.notice(nid)
