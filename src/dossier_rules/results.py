"""Filters and summaries over screening results: the one implementation every interface uses.

A *result* is one output record of screening: a report (see
:class:`dossier_rules.report.Report`) or an error record, as plain JSON data.
``batch`` counts its summary with :class:`Summary`, ``report`` and ``diff``
filter and summarise results files with :class:`Filter` and :class:`Summary`,
and the screening service filters its log with the same :class:`Filter`, so
a filter means the same thing wherever an examiner uses it.

Filters work at two levels:

* dossier criteria (country, kind, outcome, sector, submitted date range)
  select whole results;
* finding criteria (severity, rule, article, intermediary) select findings; a
  report is selected when at least one of its findings is, and summaries then
  count only the selected findings (the dossier's outcome stays its own).

Everything here streams: :func:`read_results` yields one record at a time and
a :class:`Summary` keeps one entry per distinct country, article, rule and
intermediary (at most :data:`MAX_GROUPS` per view; the rest is counted under
:data:`OTHER`), never one per record.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from .labels import term
from .locale import _, language
from .problems import InputError, Problem
from .registries import comparable_name
from .report import OUTCOMES, outcome, registry_used

Record = dict[str, Any]

MAX_GROUPS = 10_000
"""Entries kept per summary view (countries, articles, rules, intermediaries); the rest go under :data:`OTHER`."""

OTHER = "(other)"
"""The key under which a view counts whatever did not fit in :data:`MAX_GROUPS` entries."""

MAX_PARTNER_REPORTS = 20
"""The partner's 4(1) reports one intermediary's row lists at most."""
MAX_RESULT_BYTES = 64 * 1024 * 1024
"""Longest results line read (a report of a dossier at the 4 MiB input limit stays far below)."""

HEADER_TYPE = "run"
"""``record_type`` of the header record that opens a ``batch`` output (see :mod:`dossier_rules.batch`)."""


# --------------------------------------------------------------------------- how codes read


def outcome_label(state: str, lang: str | None = None) -> str:
    """An outcome in words, in ``lang`` (default: the current language), from the one vocabulary
    (:data:`dossier_rules.labels.TERMS`) the pages and spreadsheets use too; an unknown code as written."""
    return term(state, lang or language(), "outcome")


def severity_label(severity: str, lang: str | None = None) -> str:
    """A severity in words, in ``lang`` (default: the current language), from :data:`dossier_rules.labels.TERMS`."""
    return term(severity, lang or language(), "severity")


# --------------------------------------------------------------------------- reading


def is_header(record: Record) -> bool:
    """The run header of a results file, not a result."""
    return record.get("record_type") == HEADER_TYPE


def is_result(record: Record) -> bool:
    """A report or an error record (not a run header or a checkpoint of a batch output)."""
    return "record_type" not in record


def complete(record: Record, header: Record | None) -> Record:
    """The self-contained report of a lean batch record: ``packs`` and ``registries`` put back from the run header.

    Error records, reports that already carry them, and results without a
    header (``check`` output) come back unchanged.
    """
    if header is None or "errors" in record or record.get("packs") is not None:
        return record
    pack = record["pack"]
    as_of = date.fromisoformat(record["as_of"])
    max_age = header["options"]["max_registry_age"]
    return {**record, "packs": header["packs"][pack], "registries": [registry_used(r, as_of, max_age) for r in header["registries"][pack]]}


def outcome_of(record: Record) -> str:
    """The record's outcome; computed for results written before reports carried it."""
    if "outcome" in record:
        return str(record["outcome"])
    if "errors" in record:
        return "unreadable"
    return outcome(record["pack_status"]["state"], record["findings"])


def open_results(path: Path) -> BinaryIO:
    """A results file for reading, gzip-compressed when its name ends in ``.gz``; ``-`` is not accepted."""
    try:
        return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")  # type: ignore[return-value]  # a GzipFile reads as a binary file; typeshed types it apart
    except OSError as exc:
        raise InputError([Problem(str(path), _("cannot read: {reason}", reason=exc.strerror), kind="not_found")]) from None


def read_records(path: Path) -> Iterator[tuple[int, Record]]:
    """Every JSON record of a JSON Lines results file, header included, with its line number.

    A line that is not a JSON object, or longer than :data:`MAX_RESULT_BYTES`,
    stops the read with an :class:`InputError` naming the line: a results file
    is written by this program, so a bad line means a damaged or foreign file.
    """
    source = str(path)
    with open_results(path) as stream:
        for number, line in enumerate(_bounded_lines(stream, source), 1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise InputError([Problem(source, _("not a results file: invalid JSON ({error})", error=exc), kind="syntax", line=number)]) from None
            if not isinstance(record, dict) or not ("record_type" in record or "source" in record or "dossier_id" in record):
                raise InputError(
                    [Problem(source, _("not a results file: expected a report, an error record, a run header or a checkpoint"), kind="schema", line=number)]
                )
            yield number, record


def _bounded_lines(stream: BinaryIO, source: str) -> Iterator[bytes]:
    number = 0
    while True:
        line = stream.readline(MAX_RESULT_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_RESULT_BYTES:
            raise InputError(
                [Problem(source, _("line is longer than {limit} bytes: not a results file", limit=MAX_RESULT_BYTES), kind="too_large", line=number)]
            )
        yield line


def read_results(path: Path, self_contained: bool = False) -> Iterator[Record]:
    """The results (reports and error records) of a results file, in file order, without header or checkpoints.

    ``self_contained`` puts back what lean batch reports leave to the header (:func:`complete`).
    """
    header = None
    for _line, record in read_records(path):
        if is_header(record):
            header = record if self_contained else None
        elif is_result(record):
            yield complete(record, header)


def read_header(path: Path) -> Record | None:
    """The run header of a results file, or ``None`` when it has none (``check --format jsonl`` output)."""
    for _line, record in read_records(path):
        return record if is_header(record) else None
    return None


# --------------------------------------------------------------------------- intermediaries


def intermediary_key(subject: dict[str, Any] | None) -> str:
    """Who a finding is about, as one key: the party's id when known, else its name, normalised.

    A broker's id is its stable identifier (a broker dossier's ``broker_id``,
    which candidate dossiers name as the party's ``id``), so every dossier
    about one broker falls under one key. Notices are grouped by this key too
    (:mod:`dossier_rules.sharing`), so the by-intermediary view and the
    notices name the same parties.
    """
    if not subject:
        return "unidentified"
    if subject.get("id"):
        return "id:" + str(subject["id"])
    if subject.get("name"):
        return "name:" + _normal_name(str(subject["name"]))
    return "unidentified"


def _normal_name(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def names_party(subject: dict[str, Any] | None, wanted: str) -> bool:
    """Whether ``wanted`` (what an examiner typed) is the party's id or its name.

    Both are compared as :func:`dossier_rules.registries.comparable_name`
    compares names (case, spacing, full-width letters and legal-form words do
    not count), so ``mekong example recruiting co., ltd`` finds the party
    whatever id it has, and ``kh-brk-0009`` finds ``KH-BRK-0009``.
    """
    if not subject:
        return False
    typed = comparable_name(wanted)
    if not typed:
        return False
    return any(value and comparable_name(str(value)) == typed for value in (subject.get("id"), subject.get("name")))


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filter:
    """Which results (and which of their findings) an examiner wants; empty criteria select everything.

    Each criterion is a set of accepted values (any one matches); criteria
    combine with AND. ``articles`` match a citation and everything under it
    (``MOC-KH 4(1)`` matches ``MOC-KH 4(1)(e)``), also through a finding's
    ``also`` citations. ``intermediaries`` match a subject's id or its name,
    ignoring case, spacing, width and legal-form words (:func:`names_party`). ``submitted_from``/``submitted_to`` are
    inclusive.
    """

    countries: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    outcomes: frozenset[str] = frozenset()
    sectors: frozenset[str] = frozenset()
    submitted_from: date | None = None
    submitted_to: date | None = None
    severities: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()
    articles: frozenset[str] = frozenset()
    intermediaries: frozenset[str] = frozenset()

    @classmethod
    def of(cls, **criteria: Any) -> Filter:
        """A filter from keyword criteria as interfaces receive them: any iterable (or ``None``) per set."""
        names = {f.name for f in fields(cls)}
        unknown = set(criteria) - names
        if unknown:
            raise TypeError(f"unknown filter criteria: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, value in criteria.items():
            if name.startswith("submitted_"):
                values[name] = value
            elif value:
                values[name] = frozenset([value] if isinstance(value, str) else value)
        return cls(**values)

    @property
    def on_findings(self) -> bool:
        """Whether any finding criterion is set (then only matching findings count)."""
        return bool(self.severities or self.rules or self.articles or self.intermediaries)

    def matches(self, record: Record) -> bool:
        """Whether the result is selected: its dossier criteria hold and, if any finding criterion is set, one finding matches."""
        if self.outcomes and outcome_of(record) not in self.outcomes:
            return False
        if "errors" in record:
            return not (self.countries or self.kinds or self.sectors or self.submitted_from or self.submitted_to or self.on_findings)
        if self.countries and record.get("country") not in self.countries:
            return False
        if self.kinds and record.get("kind") not in self.kinds:
            return False
        if self.sectors and record.get("sector") not in self.sectors:
            return False
        if self.submitted_from or self.submitted_to:
            submitted = record.get("submitted")
            if submitted is None:
                return False
            if self.submitted_from and submitted < self.submitted_from.isoformat():
                return False
            if self.submitted_to and submitted > self.submitted_to.isoformat():
                return False
        return not self.on_findings or any(self.finding_matches(f) for f in record["findings"])

    def findings(self, record: Record) -> list[Record]:
        """The findings of a report that this filter selects (all of them when no finding criterion is set)."""
        found = record.get("findings") or []
        if not self.on_findings:
            return list(found)
        return [f for f in found if self.finding_matches(f)]

    def finding_matches(self, finding: Record) -> bool:
        if self.severities and finding["severity"] not in self.severities:
            return False
        if self.rules and finding["rule_id"] not in self.rules:
            return False
        if self.articles and not any(_under(a, wanted) for a in (finding["article"], *finding.get("also", ())) for wanted in self.articles):
            return False
        return not self.intermediaries or any(names_party(finding.get("subject"), wanted) for wanted in self.intermediaries)


def _under(article: str, wanted: str) -> bool:
    """``MOC-KH 4(1)(e)`` is under ``MOC-KH 4(1)`` and under itself, not under ``MOC-KH 4(10)``."""
    return article == wanted or article.startswith(wanted + "(")


def select(records: Iterable[Record], chosen: Filter) -> Iterator[Record]:
    """The results the filter selects, in order (streaming)."""
    return (r for r in records if chosen.matches(r))


# --------------------------------------------------------------------------- summaries


@dataclass
class FindingGroup:
    """Findings under one article or rule: how many, in how many dossiers, at which severities."""

    findings: int = 0
    dossiers: int = 0
    shared: int = 0
    severity: Counter[str] = field(default_factory=Counter)
    countries: Counter[str] = field(default_factory=Counter)

    def merge(self, other: FindingGroup) -> None:
        self.findings += other.findings
        self.dossiers += other.dossiers
        self.shared += other.shared
        self.severity.update(other.severity)
        self.countries.update(other.countries)

    def to_json(self) -> Record:
        return {
            "findings": self.findings,
            "dossiers": self.dossiers,
            "shared": self.shared,
            "severity": dict(sorted(self.severity.items())),
            "countries": sorted(self.countries),
        }


@dataclass
class CountryGroup:
    """The dossiers of one country by outcome, and their findings."""

    dossiers: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    findings: int = 0

    def merge(self, other: CountryGroup) -> None:
        self.dossiers += other.dossiers
        self.outcomes.update(other.outcomes)
        self.findings += other.findings

    def to_json(self) -> Record:
        return {"dossiers": self.dossiers, "outcomes": {o: self.outcomes[o] for o in OUTCOMES if self.outcomes[o]}, "findings": self.findings}


@dataclass
class IntermediaryGroup:
    """What the results say about one intermediary or agency across dossiers.

    ``candidates`` and ``brokers`` count the reports (candidate or broker
    dossiers) with at least one finding about the party; ``first_seen`` and
    ``last_seen`` are the earliest and latest submitted dates of those
    dossiers.
    """

    name: str | None = None
    role: str | None = None
    candidates: int = 0
    brokers: int = 0
    findings: int = 0
    shared: int = 0
    acts: Counter[str] = field(default_factory=Counter)
    countries: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    first_seen: str | None = None
    last_seen: str | None = None
    partner_reports: set[str] = field(default_factory=set)
    """The partner's 4(1) reports about this party that findings cited (at most :data:`MAX_PARTNER_REPORTS`)."""

    def merge(self, other: IntermediaryGroup) -> None:
        self.name = self.name or other.name
        self.role = self.role or other.role
        self.candidates += other.candidates
        self.brokers += other.brokers
        self.findings += other.findings
        self.shared += other.shared
        self.acts.update(other.acts)
        self.countries.update(other.countries)
        self.rules.update(other.rules)
        self.cite(other.partner_reports)
        self.seen(other.first_seen)
        self.seen(other.last_seen)

    def cite(self, reports: Any) -> None:
        """Keep the partner's reports a finding cited (its subject's ``reports``), up to the limit."""
        for report in reports or ():
            if len(self.partner_reports) >= MAX_PARTNER_REPORTS:
                return
            self.partner_reports.add(str(report))

    def seen(self, day: str | None) -> None:
        if day is None:
            return
        if self.first_seen is None or day < self.first_seen:
            self.first_seen = day
        if self.last_seen is None or day > self.last_seen:
            self.last_seen = day

    def to_json(self) -> Record:
        return {
            "name": self.name,
            "role": self.role,
            "candidates": self.candidates,
            "brokers": self.brokers,
            "findings": self.findings,
            "shared": self.shared,
            "acts": sorted(self.acts),
            "countries": sorted(self.countries),
            "rules": dict(self.rules.most_common()),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "partner_reports": sorted(self.partner_reports),
        }


VIEWS = ("outcome", "country", "article", "rule", "intermediary")
"""The views of a summary, in the order they are shown: outcome first, as examiners triage."""


@dataclass
class Summary:
    """Counts over results, by outcome, country, article, rule and intermediary.

    Build one with :meth:`add` per result (or :func:`summarise`), combine the
    summaries of parts with :meth:`merge` (``batch`` counts each chunk in its
    worker), and read it with :meth:`to_json`. A summary made with a
    :class:`Filter` counts only the results and findings the filter selects.
    """

    chosen: Filter = field(default_factory=Filter)
    records: int = 0
    findings: int = 0
    outcome: Counter[str] = field(default_factory=Counter)
    severity: Counter[str] = field(default_factory=Counter)
    country: dict[str, CountryGroup] = field(default_factory=dict)
    article: dict[str, FindingGroup] = field(default_factory=dict)
    rule: dict[str, FindingGroup] = field(default_factory=dict)
    intermediary: dict[str, IntermediaryGroup] = field(default_factory=dict)

    def add(self, record: Record) -> bool:
        """Count one result if the filter selects it; whether it did."""
        if not self.chosen.matches(record):
            return False
        self.records += 1
        state = outcome_of(record)
        self.outcome[state] += 1
        if "errors" in record:
            return True
        found = self.chosen.findings(record)
        self.findings += len(found)
        country = _slot(self.country, record["country"], CountryGroup)
        country.dossiers += 1
        country.outcomes[state] += 1
        country.findings += len(found)
        self._add_findings(record, found)
        return True

    def _add_findings(self, record: Record, found: list[Record]) -> None:
        articles: set[str] = set()
        rules: set[str] = set()
        parties: set[str] = set()
        for finding in found:
            self.severity[finding["severity"]] += 1
            for table, key, seen in ((self.article, finding["article"], articles), (self.rule, finding["rule_id"], rules)):
                group = _slot(table, key, FindingGroup)
                group.findings += 1
                group.shared += finding["share"]
                group.severity[finding["severity"]] += 1
                group.countries[record["country"]] += 1
                if key not in seen:
                    seen.add(key)
                    group.dossiers += 1
            subject = finding.get("subject")
            if subject:
                self._add_party(record, finding, subject, parties)

    def _add_party(self, record: Record, finding: Record, subject: Record, parties: set[str]) -> None:
        key = intermediary_key(subject)
        party = _slot(self.intermediary, key, IntermediaryGroup)
        party.name = party.name or subject.get("name")
        party.role = party.role or subject.get("role")
        party.findings += 1
        party.shared += finding["share"]
        party.rules[finding["rule_id"]] += 1
        party.cite(subject.get("reports"))
        if finding.get("act"):
            party.acts[finding["act"]] += 1
        party.countries[record["country"]] += 1
        if key in parties:
            return
        parties.add(key)
        if record["kind"] == "candidate":
            party.candidates += 1
        else:
            party.brokers += 1
        party.seen(record.get("submitted") or record.get("as_of"))

    def merge(self, other: Summary) -> None:
        """Add another summary's counts (made with the same filter) to this one."""
        self.records += other.records
        self.findings += other.findings
        self.outcome.update(other.outcome)
        self.severity.update(other.severity)
        for mine, theirs, kind in (
            (self.country, other.country, CountryGroup),
            (self.article, other.article, FindingGroup),
            (self.rule, other.rule, FindingGroup),
            (self.intermediary, other.intermediary, IntermediaryGroup),
        ):
            for key, group in theirs.items():
                _slot(mine, key, kind).merge(group)

    @property
    def unreadable(self) -> int:
        return self.outcome["unreadable"]

    def to_json(self) -> Record:
        """The summary as JSON data: views in :data:`VIEWS` order, rows by count, largest first."""
        return {
            "records": self.records,
            "findings": self.findings,
            "outcome": self.view_json("outcome"),
            "severity": {s: self.severity[s] for s in ("block", "warn", "info")},
            **{view: self.view_json(view) for view in VIEWS[1:]},
        }

    def view_json(self, view: str) -> Record:
        """One view of :meth:`to_json`, alone: a table of one view need not convert the others (tens of thousands of intermediaries)."""
        if view == "outcome":
            return {o: self.outcome[o] for o in OUTCOMES}
        if view == "country":
            return {k: g.to_json() for k, g in sorted(self.country.items())}
        if view == "intermediary":
            return {k: g.to_json() for k, g in _largest(self.intermediary, lambda g: g.candidates + g.brokers)}
        table: dict[str, FindingGroup] = getattr(self, view)  # article or rule
        return {k: g.to_json() for k, g in _largest(table, lambda g: g.findings)}


def _slot(table: dict[str, Any], key: str, kind: type) -> Any:
    """The group for ``key``, created if there is room; past :data:`MAX_GROUPS`, the :data:`OTHER` group."""
    group = table.get(key)
    if group is None:
        if len(table) >= MAX_GROUPS and key != OTHER:
            return _slot(table, OTHER, kind)
        group = table[key] = kind()
    return group


def _largest(table: dict[str, Any], size: Any) -> list[tuple[str, Any]]:
    return sorted(table.items(), key=lambda kv: (-size(kv[1]), kv[0]))


def summarise(records: Iterable[Record], chosen: Filter | None = None) -> Summary:
    """The summary of a stream of results, counting what ``chosen`` selects."""
    summary = Summary(chosen or Filter())
    for record in records:
        summary.add(record)
    return summary


# --------------------------------------------------------------------------- comparing two runs


class NotSameInput(Exception):
    """Two results files that do not hold the results of the same input records, in the same order."""


def finding_key(finding: Record) -> tuple[str, str | None]:
    """What makes two findings "the same" across runs: the rule and the list item it is about.

    Evidence and message are left out on purpose: after a registry import the
    same finding may quote another value, and that is not a new finding.
    """
    return finding["rule_id"], finding.get("item")


@dataclass
class Change:
    """How one dossier's result differs between two runs."""

    source: str
    dossier_id: str | None
    old_outcome: str
    new_outcome: str
    added: list[str]
    removed: list[str]

    def to_json(self) -> Record:
        return {
            "source": self.source,
            "dossier_id": self.dossier_id,
            "old_outcome": self.old_outcome,
            "new_outcome": self.new_outcome,
            "added": self.added,
            "removed": self.removed,
        }


def change(old: Record, new: Record) -> Change | None:
    """The change between two results of the same record, or ``None`` when outcome and findings are the same."""
    before = Counter(finding_key(f) for f in old.get("findings") or ())
    after = Counter(finding_key(f) for f in new.get("findings") or ())
    added = sorted((after - before).elements(), key=_key_order)
    removed = sorted((before - after).elements(), key=_key_order)
    old_outcome, new_outcome = outcome_of(old), outcome_of(new)
    if old_outcome == new_outcome and not added and not removed:
        return None
    return Change(new["source"], new.get("dossier_id") or old.get("dossier_id"), old_outcome, new_outcome, [r for r, _ in added], [r for r, _ in removed])


def _key_order(key: tuple[str, str | None]) -> tuple[str, str]:
    return key[0], key[1] or ""


def same_record(a: Record, b: Record) -> bool:
    """Whether two results are of the same input record, whatever path the input was read under.

    Reports compare by the hash of the record screened (``source_sha256``);
    where either lacks it (an unreadable record, an older output), by what
    stays when a file is moved: the line of a JSON Lines input, else the
    file's name.
    """
    if a.get("source_sha256") and b.get("source_sha256"):
        return bool(a["source_sha256"] == b["source_sha256"])
    return _place(a.get("source")) == _place(b.get("source"))


def _place(source: Any) -> str:
    """``in.jsonl:12`` -> ``:12``; ``some/dir/x.json`` -> ``x.json``."""
    text = str(source or "")
    _head, sep, tail = text.rpartition(":")
    if sep and tail.isdigit():
        return ":" + tail
    return re.split(r"[\\/]", text)[-1]


def pairs(old: Iterable[Record], new: Iterable[Record]) -> Iterator[tuple[Record, Record]]:
    """The results of two runs side by side, checking record by record that they come from the same input (:func:`same_record`)."""
    old_it, new_it = iter(old), iter(new)
    position = 0
    while True:
        a, b = next(old_it, None), next(new_it, None)
        if a is None and b is None:
            return
        position += 1
        if a is None or b is None:
            message = (
                _("the new results hold more records (from record {n} on): they are not results of the same input", n=position)
                if a is None
                else _("the old results hold more records (from record {n} on): they are not results of the same input", n=position)
            )
            raise NotSameInput(message)
        if not same_record(a, b):
            raise NotSameInput(
                _(
                    "record {n} is {old} in the old results and {new} in the new, with other contents: not the same input",
                    n=position,
                    old=repr(a.get("source")),
                    new=repr(b.get("source")),
                )
            )
        yield a, b


@dataclass
class Comparison:
    """Counts of what changed between two runs: outcome moves, and findings added and removed by rule."""

    records: int = 0
    changed: int = 0
    moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    added: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    dossiers_added: Counter[str] = field(default_factory=Counter)
    dossiers_removed: Counter[str] = field(default_factory=Counter)

    def add(self, found: Change | None) -> None:
        self.records += 1
        if found is None:
            return
        self.changed += 1
        if found.old_outcome != found.new_outcome:
            self.moves[(found.old_outcome, found.new_outcome)] += 1
        self.added.update(found.added)
        self.removed.update(found.removed)
        self.dossiers_added.update(set(found.added))
        self.dossiers_removed.update(set(found.removed))

    @property
    def outcome_changed(self) -> int:
        return sum(self.moves.values())

    def to_json(self) -> Record:
        rules = sorted(self.added.keys() | self.removed.keys(), key=lambda r: (-(self.added[r] + self.removed[r]), r))
        return {
            "records": self.records,
            "changed": self.changed,
            "outcome_changed": self.outcome_changed,
            "moves": [{"from": a, "to": b, "dossiers": n} for (a, b), n in sorted(self.moves.items(), key=lambda kv: (-kv[1], kv[0]))],
            "rules": {
                r: {"added": self.added[r], "removed": self.removed[r], "dossiers_added": self.dossiers_added[r], "dossiers_removed": self.dossiers_removed[r]}
                for r in rules
            },
        }


def compare(old: Iterable[Record], new: Iterable[Record], comparison: Comparison | None = None) -> Iterator[Change]:
    """The changes between two runs over the same input, streaming; counts go into ``comparison``."""
    counts = comparison if comparison is not None else Comparison()
    for a, b in pairs(old, new):
        found = change(a, b)
        counts.add(found)
        if found is not None:
            yield found


# --------------------------------------------------------------------------- what produced a run


@dataclass
class RunFacts:
    """What produced a results file: program, backend, options, packs, registries and the input's identity.

    Filled by :meth:`add` from every record read: a ``batch`` output says it
    all in its run header and checkpoints; a ``check --format jsonl`` output
    has no header, and each report names its own packs and registries. Holds
    one entry per distinct pack file and registry, never one per record.
    """

    programs: set[str] = field(default_factory=set)
    backend: str | None = None
    as_of: str | None = None
    header: bool = False
    max_registry_age: int | None = None
    input: str | None = None
    started_at: str | None = None
    input_records: int | None = None
    input_bytes: int | None = None
    input_sha256: str | None = None
    packs: dict[str, Record] = field(default_factory=dict)
    registries: dict[str, Record] = field(default_factory=dict)

    def add(self, record: Record) -> None:
        """Take what ``record`` (a header, a checkpoint or a result) says about the run."""
        if is_header(record):
            self._add_header(record)
        elif record.get("record_type") == "checkpoint":
            self.input_records, self.input_bytes, self.input_sha256 = record.get("records"), record.get("input_bytes"), record.get("input_sha256")
        elif is_result(record) and "errors" not in record:
            if record.get("tool_version"):
                self.programs.add(str(record["tool_version"]))
            self._add_files(record.get("packs") or (), record.get("registries") or ())

    def _add_header(self, header: Record) -> None:
        engine, options = header.get("engine") or {}, header.get("options") or {}
        self.header = True
        if engine.get("version"):
            self.programs.add(str(engine["version"]))
        self.backend = engine.get("backend")
        self.as_of = options.get("as_of")
        self.max_registry_age = options.get("max_registry_age")
        self.input, self.started_at = header.get("input"), header.get("started_at")
        for country in sorted(header.get("packs") or {}):
            self._add_files(header["packs"][country], header.get("registries", {}).get(country) or ())

    def _add_files(self, packs: Iterable[Record], registries: Iterable[Record]) -> None:
        for pack in packs:
            if len(self.packs) < MAX_GROUPS:
                self.packs.setdefault(str(pack.get("id")), {k: pack.get(k) for k in ("id", "version", "sha256")})
        for used in registries:
            key = f"{used.get('country')} {used.get('kind')}"
            if len(self.registries) < MAX_GROUPS:
                self.registries.setdefault(key, {k: used.get(k) for k in ("country", "kind", "retrieved_on", "sample", "sha256", "entries")})

    @property
    def sample(self) -> bool:
        """Whether any registry the run used holds fictional sample data (a result of it is no real screening)."""
        return any(r.get("sample") for r in self.registries.values())

    def differences(self, other: RunFacts) -> list[str]:
        """What ``other`` (the newer run) did differently, one sentence each, in the current language; empty when nothing."""
        found = []
        if self.programs != other.programs:
            found.append(_("program version: {old} → {new}", old=_listed(self.programs), new=_listed(other.programs)))
        if self.backend != other.backend:
            found.append(_("rule backend: {old} → {new}", old=self.backend or "?", new=other.backend or "?"))
        if self.as_of != other.as_of:
            found.append(_("as-of date: {old} → {new}", old=self.as_of_words(), new=other.as_of_words()))
        if self.max_registry_age != other.max_registry_age:
            found.append(_("--max-registry-age: {old} → {new}", old=self.max_registry_age, new=other.max_registry_age))
        for name in sorted(self.packs.keys() | other.packs.keys()):
            old, new = self.packs.get(name), other.packs.get(name)
            if old != new:
                found.append(_("pack {name}: {old} → {new}", name=name, old=_pack_words(old), new=_pack_words(new)))
        for name in sorted(self.registries.keys() | other.registries.keys()):
            before, after = self.registries.get(name), other.registries.get(name)
            if before != after:
                found.append(_("registry {name}: {old} → {new}", name=name, old=_registry_words(before), new=_registry_words(after)))
        return found

    def as_of_words(self) -> str:
        """The as-of date, or how it was chosen when the run did not set one."""
        if self.as_of:
            return str(self.as_of)
        return _("each dossier's submitted date") if self.header else _("not recorded")

    def to_json(self) -> Record:
        return {
            "programs": sorted(self.programs),
            "backend": self.backend,
            "as_of": self.as_of,
            "max_registry_age": self.max_registry_age,
            "packs": [self.packs[k] for k in sorted(self.packs)],
            "registries": [self.registries[k] for k in sorted(self.registries)],
            "input": {"records": self.input_records, "bytes": self.input_bytes, "sha256": self.input_sha256},
        }


def _listed(values: set[str]) -> str:
    return ", ".join(sorted(values)) or "?"


def _pack_words(pack: Record | None) -> str:
    return _("absent") if pack is None else f"{pack['version']} (sha256 {str(pack['sha256'])[:12]})"


def _registry_words(used: Record | None) -> str:
    if used is None:
        return _("absent")
    if not used.get("sha256"):
        return _("not loaded")
    sample = " " + _("(fictional sample data)") if used.get("sample") else ""
    return _(
        "retrieved {day}, {entries} entries (sha256 {sha}){sample}",
        day=used.get("retrieved_on"),
        entries=used.get("entries"),
        sha=str(used["sha256"])[:12],
        sample=sample,
    )


def run_facts(path: Path) -> RunFacts:
    """The facts of a results file from its start: the run header, else the first report (cheap; :meth:`RunFacts.add` on every record is complete)."""
    facts = RunFacts()
    for _line, record in read_records(path):
        facts.add(record)
        if is_header(record) or is_result(record):
            break
    return facts


def read_run(path: Path, facts: RunFacts, self_contained: bool = False) -> Iterator[Record]:
    """:func:`read_results`, telling ``facts`` about every record on the way (header, checkpoints, results)."""
    header = None
    for _line, record in read_records(path):
        facts.add(record)
        if is_header(record):
            header = record if self_contained else None
        elif is_result(record):
            yield complete(record, header)
