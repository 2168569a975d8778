"""Information-sharing notices: findings to forward to the partner's contact point.

The MOCs exist so that both sides share, promptly, what stops abusive
intermediaries (art. 4(1)) and test fraud (KH 7; others 5). This module turns
the share-marked findings of reports into *notices*: one per partner
ministry and intermediary and act (or per test-fraud case), addressed from
and to the contact points of art. 2, carrying the confidentiality statement
of that MOC's art. 3.

Notices live in an outbox: a SQLite file of its own (``share``), or the
service's database (SQLite or PostgreSQL, through :mod:`dossier_rules.storage`).
Every change happens in one transaction per report, so a run that is killed leaves the outbox as it was
after the last whole report, and running it again completes the work: a
finding is stored once under a key made of its rule, dossier and evidence,
and notice ids are derived from their content, never from the clock.
Nothing leaves the outbox unless someone approved it.

Data minimisation: a notice names the intermediary fully; a candidate
appears only by dossier reference. Every field the model marks personal
(:data:`dossier_rules.model.PERSONAL`) is withheld from notices, in evidence
and in messages, unless the build was asked to include personal data; then
the identity is read back from the dossier and attached only if that
dossier is provably the one the report was made from (its content hash).

A report is trusted only as far as it can be checked: it must name the
packs loaded now (same hashes), and each finding must cite the article its
rule has in the pack of the report's country.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from babel.dates import format_date
from babel.numbers import format_decimal
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection

from . import __version__, redaction, storage
from .batch import jsonl_items, record_bytes, record_digest
from .engine import pack_status
from .errors import DossierError
from .formats import NoticeFormat
from .labels import Lang, label
from .packs import Act, Localized, PackSet
from .problems import InputError, Problem
from .report import Finding, Report
from .results import complete, intermediary_key, is_header, is_result
from .sources import MAX_DOSSIER_BYTES, load_dossier, open_input, problems_from_validation, read_stream, without_nulls
from .storage import notices as rows

State = Literal["draft", "approved", "exported"]
Recorder = Callable[[Connection, str], None]
"""Called with the outbox's connection and a notice id inside an approval's or export's transaction."""

JAPAN_SIDE = Localized(
    ja="日本国法務省、外務省、厚生労働省及び警察庁",
    en="Ministry of Justice, Ministry of Foreign Affairs, Ministry of Health, Labour and Welfare and National Police Agency of Japan",
)

ACT_TITLES: dict[str, Localized] = {
    "a": Localized(
        ja="保証金等の名目による金銭・財産の管理",
        en="Managing the money or property of candidates, their relatives or associates, as a deposit or under any other name",
    ),
    "b": Localized(
        ja="不履行時の支払その他不当な財産移転を定める契約の締結",
        en="Contracts imposing a payment on breach or otherwise planning an unjust transfer of money or property",
    ),
    "c": Localized(ja="暴行・脅迫・自由の制限等による人権侵害", en="Violence, threats, restriction of liberty or other violations of human rights"),
    "d": Localized(
        ja="出入国・査証手続における偽変造・虚偽文書の行使・提供", en="Using or providing forged, altered or false documents in immigration or visa procedures"
    ),
    "e": Localized(
        ja="算出基準を示さず額と内訳を理解させない費用の徴収",
        en="Collecting fees without showing the basis of calculation and without making the amount and breakdown understood",
    ),
    "test_fraud": Localized(
        ja="試験における不正（別人による受験、合格を証する文書の偽造・変造その他の不正な行為）",
        en="Test fraud: impersonation, forged or altered pass certificates, or other improper acts",
    ),
    "revocation": Localized(
        ja="認定を取り消された後も活動する送出機関（調査のための通報）",
        en="A sending agency still active after its accreditation was revoked (reported for investigation)",
    ),
}


WORDED_ACTS = {"b": "act_b", "e": "act_e"}
"""Acts whose wording differs between the MOC texts (PK 不法な金銭の支払, TJ 署名; 理解させ／十分に理解させ／十分に認識させ):
a notice names them in its own MOC's words (``pack.wording``), never in another country's."""


def act_title(pack: Any, act: str) -> Localized:
    """The matter of a notice: the act as the pack's own MOC words it where the texts differ, else :data:`ACT_TITLES`."""
    words = pack.wording().get(WORDED_ACTS.get(act, ""))
    return words if words is not None else ACT_TITLES[act]


# --------------------------------------------------------------------------- the notice


class _NoticePart(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Side(_NoticePart):
    ministry: Localized
    contact_point: Localized


class NoticeFinding(_NoticePart):
    rule_id: str
    article: str
    severity: str
    title: Localized
    message: Localized
    evidence: dict[str, Any]
    basis: dict[str, Any] | None = Field(
        default=None, description="Block findings: the MOC article and any Japanese legal instrument that make them a reason to refuse"
    )


class NoticeDossier(_NoticePart):
    """A dossier concerned, by reference; ``identity`` only when personal data was asked for."""

    dossier_id: str
    kind: str
    submitted_as_of: str
    findings: list[NoticeFinding]
    identity: dict[str, Any] | None = None


class Notice(_NoticePart):
    """The JSON form of a notice (``schemas/notice.schema.json``)."""

    notice_version: Literal["1"] = "1"
    notice_id: str
    state: State
    country: str
    act: Act
    act_title: Localized
    provision: str = Field(description="The article of this country's MOC that the notice is made under")
    sender: Side
    recipient: Side
    intermediary: dict[str, Any] | None = Field(description="The intermediary concerned, identified fully; null for a test-fraud case")
    dossiers: list[NoticeDossier]
    confidentiality: dict[str, Any]
    packs: list[dict[str, str]]
    tool_version: str | None = Field(default=None, description="Version of dossier-rules that created the notice (absent from notices created before 0.2)")
    created_at: str
    approved_by: str | None = None
    approved_at: str | None = None
    exported_at: str | None = None


# --------------------------------------------------------------------------- keys


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def finding_key(report: Report, finding: Finding) -> str:
    """The same finding found again (same rule, dossier and evidence) has the same key."""
    return _digest(finding.rule_id, report.country, report.dossier_id, finding.evidence)


def group_key(report: Report, finding: Finding) -> str:
    """One notice per partner and intermediary and act; one per case for test fraud."""
    if finding.act == "test_fraud":
        return f"{report.country}|test_fraud|{report.dossier_id}|{finding.item or ''}"
    return f"{report.country}|{finding.act}|{intermediary_key(finding.subject)}"


def notice_id(country: str, act: str, key: str, seq: int) -> str:
    return f"N-{country}-{act.replace('_', '-')}-{_digest(key)[:10]}-{seq}"


# --------------------------------------------------------------------------- reading reports


MAX_REPORT_DOCUMENT_BYTES = 64 * 1024 * 1024
"""A single JSON document of reports (``check --format json``) is read whole up to this size; JSON Lines stream."""


def read_reports(paths: Iterable[Path]) -> Iterator[tuple[str, Report | list[Problem]]]:
    """Reports from ``check --format json|jsonl`` or ``batch`` output; error records are skipped.

    JSON Lines (``batch``, ``check --format jsonl``) are read one bounded line
    at a time, so a file of any number of reports costs the memory of one.
    """
    for path in paths:
        source = str(path)
        try:
            handle = open_input(path)
        except InputError as exc:
            yield source, exc.problems
            continue
        with handle:
            first = handle.readline(MAX_DOSSIER_BYTES + 1)
            handle.seek(0)
            if _one_json_object(first):
                yield from _report_lines(handle, source)
            else:
                yield from _report_document(handle, source)


def _one_json_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _report_lines(handle: Any, source: str) -> Iterator[tuple[str, Report | list[Problem]]]:
    header: dict[str, Any] | None = None  # a batch output's run header: what its lean reports leave out
    for _, number, raw, problem in jsonl_items(handle, source):
        if problem is not None:
            yield source, [problem]
            continue
        assert raw is not None, "an item holds its record or its problem"
        try:
            record = json.loads(raw)
        except ValueError as exc:
            yield source, [Problem(source, f"invalid JSON: {exc}", kind="syntax", line=number)]
            continue
        if isinstance(record, dict) and is_header(record):
            header = record
            continue
        yield from _report(source, number, record, header)


def _report_document(handle: Any, source: str) -> Iterator[tuple[str, Report | list[Problem]]]:
    try:
        whole = json.loads(read_stream(handle, source, MAX_REPORT_DOCUMENT_BYTES))
    except InputError as exc:
        yield source, exc.problems
        return
    except ValueError as exc:
        yield source, [Problem(source, f"invalid JSON: {exc}", kind="syntax")]
        return
    records = whole.get("results", []) if isinstance(whole, dict) and "results" in whole else [whole]
    for record in records if isinstance(records, list) else []:
        yield from _report(source, None, record, None)


def _report(source: str, line: int | None, record: Any, header: dict[str, Any] | None) -> Iterator[tuple[str, Report | list[Problem]]]:
    if not isinstance(record, dict) or "errors" in record or not is_result(record):
        return
    try:
        yield source, Report.model_validate(complete(record, header))
    except ValidationError as exc:
        yield source, problems_from_validation(source, exc, line)


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
                    Problem(source, f"report {report.dossier_id} names pack '{report.pack}', which is not loaded for {report.country}", kind="no_pack")
                )
                continue
            untrusted = provenance_problem(pack, report, shared, source)
            if untrusted is not None:
                result.problems.append(untrusted)
                continue
            identity = None
            if with_personal_data:
                identity, problem = _identity(report, source)
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
            header = _header(pack, report, finding)
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


def _header(pack: Any, report: Report, finding: Finding) -> dict[str, Any]:
    """What a notice says about itself, fixed when it is created from the pack's MOC facts."""
    moc = pack.moc
    return {
        "act_title": act_title(pack, finding.act or "").model_dump(),
        "provision": finding.article,
        "sender": {"ministry": JAPAN_SIDE.model_dump(), "contact_point": moc.contact_points.japan.model_dump()},
        "recipient": {"ministry": moc.partner_ministry.model_dump(exclude={"abbrev"}), "contact_point": moc.contact_points.partner.model_dump()},
        "intermediary": finding.subject if finding.act != "test_fraud" else None,
        "confidentiality": {
            "article": f"MOC-{pack.country} {moc.confidentiality.article}",
            "scope": moc.confidentiality.scope,
            "text": moc.confidentiality.text.model_dump(),
        },
        "packs": [p.model_dump() for p in report.packs or ()],
        "tool_version": __version__,
    }


def _identity(report: Report, source: str) -> tuple[dict[str, Any] | None, Problem | None]:
    """The candidate's identity, read from the record the report names, if it is provably that record.

    The record read back must have the dossier id and the content hash the
    report recorded: an input reordered or replaced since screening would
    otherwise attach another person's identity to the notice.
    """
    if report.kind != "candidate":
        return None, None
    if not report.source or report.source == "-" or report.source_sha256 is None:
        return None, Problem(
            source,
            f"report {report.dossier_id} does not record where its dossier is and its content hash; re-screen it to share personal data",
            kind="unverified",
        )
    try:
        raw, path, line = record_bytes(report.source)
        dossier = load_dossier(raw, path, line)
    except (InputError, OSError):
        return None, Problem(
            source, f"the dossier of report {report.dossier_id} cannot be read at {report.source}; personal data not attached", kind="unverified"
        )
    if record_digest(raw) != report.source_sha256 or dossier.get("dossier_id") != report.dossier_id:
        message = f"{report.source} no longer holds the dossier report {report.dossier_id} was made from (content changed); personal data not attached, report not shared"
        return None, Problem(source, message, kind="unverified")
    identity = dossier.get("identity")
    return (without_nulls(identity) if identity else None), None


def provenance_problem(pack: Any, report: Report, shared: list[Finding], source: str) -> Problem | None:
    """Why this report cannot join a notice: packs not the ones loaded, or a finding citing another MOC's article."""
    if report.packs is None:  # a lean report whose batch output lost its run header
        return Problem(
            source,
            f"report {report.dossier_id} does not name the packs it was made with (a batch output without its run header?); re-screen it before sharing",
            kind="unverified",
        )
    loaded = [{"id": s.id, "version": s.spec.pack.version, "sha256": s.sha256} for s in pack.chain]
    if [p.model_dump() for p in report.packs] != loaded:
        return Problem(
            source,
            f"report {report.dossier_id} was made with packs other than those loaded now (ids, versions or hashes differ); re-screen it before sharing",
            kind="unverified",
        )
    articles = {r.rule.id: r.article for r in pack.rules}
    for finding in shared:
        if articles.get(finding.rule_id) != finding.article:
            return Problem(
                source,
                f"report {report.dossier_id}: finding {finding.rule_id} cites {finding.article}, which is not what pack {pack.id} ({pack.country}) cites for it; not shared",
                kind="unverified",
            )
    return None


def withheld_message(pack: Any, finding: Finding) -> dict[str, str]:
    """The finding's message with every value of a personal field withheld (:func:`dossier_rules.redaction.withheld_message`), in the pack's wording."""
    resolved = next((r for r in pack.rules if r.rule.id == finding.rule_id), None)
    if resolved is None:
        return redaction.withheld_message(None, finding.message.model_dump())
    return redaction.withheld_message(resolved.rule, finding.message.model_dump(), resolved.messages)


# --------------------------------------------------------------------------- rendering

_TEMPLATES = Environment(
    loader=PackageLoader("dossier_rules", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    trim_blocks=True,
    lstrip_blocks=True,
)
_TEMPLATES.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False)

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#|<>~&.:@])")


def markdown_text(value: Any) -> str:
    """A value as literal Markdown text, as HTML export escapes for HTML.

    Every character Markdown (CommonMark, GFM tables) gives a meaning inside a
    line is backslash-escaped and line breaks become spaces (so ``-``, ``+``
    and ``=``, which matter only at the start of a line, stay as written), so a name such as
    ``x | y``, ``[x](javascript:...)`` or ``# heading`` reads as written and
    cannot add a link, a heading, a table cell or a line to the notice. ``.``,
    ``:`` and ``@`` are escaped too: renderers that link bare addresses (GFM's
    autolinks, linkify) would otherwise turn ``https://...``, ``www.x.example``
    or ``a@x.example`` in a dossier into a link a partner might follow.
    """
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", re.sub(r"[\r\n\u2028\u2029]+", " ", text))


_MARKDOWN = _TEMPLATES.overlay(finalize=markdown_text)


@dataclass(frozen=True)
class Concerned:
    """One dossier of a notice as its list of dossiers shows it: kind, date and the amounts its findings cite, in words."""

    dossier_id: str
    kind: str
    submitted: str
    amounts: str
    findings: int


def date_in_words(day: str, lang: Lang) -> str:
    """An ISO date as a reader writes it (``June 2, 2025``, ``2025年6月2日``); a value that is no date is shown as it is."""
    try:
        return format_date(date.fromisoformat(day), "long", locale=lang)
    except ValueError:
        return day


def amounts_in_words(dossier: NoticeDossier, lang: Lang) -> str:
    """Every amount the dossier's findings cite as evidence (a ``.../amount`` with its ``.../currency``), once each, in words."""
    amounts: dict[str, str] = {}
    for finding in dossier.findings:
        for pointer, value in finding.evidence.items():
            if pointer.endswith("/amount") and isinstance(value, int | float) and not isinstance(value, bool):
                currency = finding.evidence.get(pointer.removesuffix("amount") + "currency")
                amounts[pointer] = f"{format_decimal(value, locale=lang)} {currency}" if isinstance(currency, str) else format_decimal(value, locale=lang)
    return ", ".join(amounts.values()) if lang == "en" else "、".join(amounts.values())


def concerned(notice: Notice, lang: Lang) -> list[Concerned]:
    """The list of dossiers a notice is about, in the reader's language: the first thing a partner reads after the matter."""
    return [
        Concerned(d.dossier_id, label(d.kind, lang, "kind"), date_in_words(d.submitted_as_of, lang), amounts_in_words(d, lang), len(d.findings))
        for d in notice.dossiers
    ]


def render(notice: Notice, fmt: NoticeFormat) -> str:
    if fmt == "json":
        return json.dumps(notice.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
    template = (_MARKDOWN if fmt == "md" else _TEMPLATES).get_template(f"notice.{fmt}")
    return template.render(
        n=notice,
        scope_en={"third_parties": "no disclosure to third parties", "anyone": "no disclosure to anyone"}[notice.confidentiality["scope"]],
        concerned_en=concerned(notice, "en"),
        concerned_ja=concerned(notice, "ja"),
    )
