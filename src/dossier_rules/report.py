"""What the engine returns: reports, findings and error records.

These models define the JSON output (``schemas/report.schema.json`` is
generated from them) so that pipelines can rely on its shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from .packs import Act, Localized, Pack, Severity

REPORT_VERSION: Final = "1"

Outcome = Literal["blocked", "review", "clear", "not_in_force", "unreadable"]
"""What an examiner does with a dossier, decided once here for every output and summary:

* ``unreadable``: no report could be made (an error record);
* ``not_in_force``: the dossier's MOC was not in force on the date evaluated,
  so whatever the findings say, none has effect under that MOC;
* ``blocked``: at least one block finding;
* ``review``: at least one warn finding and no block finding;
* ``clear``: nothing above info (info findings are notes for the file, not
  reasons to hold a case).
"""

OUTCOMES: tuple[str, ...] = ("blocked", "review", "clear", "not_in_force", "unreadable")
"""Outcomes in the order examiners triage them (summaries list them in this order)."""


def outcome(pack_state: str, findings: Iterable[dict[str, Any]]) -> str:
    """The outcome of a screened dossier (see :data:`Outcome`), from its pack state and findings."""
    if pack_state != "in_force":
        return "not_in_force"
    worst = "clear"
    for finding in findings:
        if finding["severity"] == "block":
            return "blocked"
        if finding["severity"] == "warn":
            worst = "review"
    return worst


class _ReportPart(BaseModel):
    # built on first use: batch and check write reports as plain data, and need these only for their schema and typed output
    model_config = ConfigDict(extra="forbid", defer_build=True)


class DomesticBasis(_ReportPart):
    """A Japanese legal instrument and article that make a finding a reason to refuse, beside the MOC article."""

    instrument: Localized
    article: Localized


class FindingBasis(_ReportPart):
    """Why a block finding makes the application unacceptable: the MOC article cited, what it says, and any domestic instrument."""

    article: str = Field(description="Citation in the dossier's own MOC, e.g. 'MOC-KH 6(1)'")
    text: Localized
    domestic: DomesticBasis | None = Field(default=None, description="The Japanese legal instrument that makes it a requirement, when the MOC's text does not")


class Finding(_ReportPart):
    rule_id: str
    pack: str = Field(description="Pack that defines the rule (may be a pack the country pack extends)")
    article: str = Field(description="Canonical citation in the dossier's own MOC, e.g. 'MOC-KH 4(1)(e)'")
    also: list[str] = Field(default_factory=list)
    severity: Severity
    share: bool = Field(description="Information to share with the partner under art. 4(1) or the test-fraud article")
    act: Act | None = None
    title: Localized
    rule_severity: Severity | None = Field(
        default=None, description="The rule's own severity when this finding is weaker than it (set only together with 'limited')"
    )
    limited: Localized | None = Field(
        default=None,
        description="Why this finding has no MOC effect: the MOC was not in force on the date evaluated, so it is never block and never shared",
    )
    basis: FindingBasis | None = Field(
        default=None, description="Block rules: what makes the application unacceptable (MOC text, or a named Japanese instrument)"
    )
    message: Localized
    evidence: dict[str, Any] = Field(description="JSON pointer into the dossier -> the value found there (null: not provided)")
    item: str | None = Field(default=None, description="JSON pointer of the list item the finding is about (for_each rules)")
    subject: dict[str, Any] | None = Field(default=None, description="The party the finding is about, e.g. the intermediary")


class PackUsed(_ReportPart):
    id: str
    version: str
    sha256: str


class PackStatus(_ReportPart):
    """Whether the MOC was in force on the date evaluated, and on what that rests."""

    state: Literal["in_force", "not_yet_in_force", "start_unknown", "ended"]
    article: str
    start: Literal["stated", "assumed", "unknown"] = Field(
        description="stated: the text gives the start; assumed: the text has no start clause and the pack assumes one; unknown: it depends on an event whose date the pack does not know"
    )
    detail: Localized


class DataWarning(_ReportPart):
    """A limit of the screening itself, not a finding about the dossier: it cites no MOC article and never counts towards --fail-on.

    ``pack-not-in-force``: the MOC was not in force on the date evaluated (findings are then for information only);
    ``pack-start-assumed``: the MOC's text has no start clause and the pack assumes it started on signature;
    ``registry-missing`` / ``registry-stale``: a list that rules consult was not loaded, or is older than allowed.
    """

    code: Literal["pack-not-in-force", "pack-start-assumed", "registry-missing", "registry-stale"]
    title: Localized
    message: Localized
    rules: list[str] = Field(default_factory=list, description="Rules whose result this limits (registry warnings)")
    registry: str | None = Field(default=None, description="Registry kind concerned (registry warnings)")


def data_warning(code: str, title: dict[str, str], message: dict[str, str], rules: list[str] | None = None, registry: str | None = None) -> dict[str, Any]:
    """A data warning with every field of :class:`dossier_rules.report.DataWarning`, in its order."""
    return {"code": code, "title": title, "message": message, "rules": rules or [], "registry": registry}


class RegistryUsed(_ReportPart):
    """A registry the pack's rules consult, as it was when the report was made."""

    kind: str
    country: str
    status: Literal["ok", "stale", "missing"]
    sha256: str | None = None
    retrieved_on: date | None = None
    age_days: int | None = Field(default=None, description="Days between retrieval and the as-of date")
    entries: int | None = None
    sample: bool | None = None


def registry_used(identity: dict[str, Any], as_of: date, max_age: int | None) -> dict[str, Any]:
    """A registry as one report saw it (shape of :class:`RegistryUsed`) from its identity and the as-of date.

    ``identity`` is what does not depend on the date (kind, country, sha256,
    retrieved_on, entries, sample; ``sha256`` None when the registry was not
    loaded). The engine writes this into every self-contained report, and
    :func:`dossier_rules.results.complete` rebuilds it for the lean records of
    a ``batch`` output, whose run header holds only the identities.
    """
    if identity.get("sha256") is None:
        return {
            "kind": identity["kind"],
            "country": identity["country"],
            "status": "missing",
            "sha256": None,
            "retrieved_on": None,
            "age_days": None,
            "entries": None,
            "sample": None,
        }
    age = (as_of - date.fromisoformat(identity["retrieved_on"])).days
    stale = max_age is not None and age > max_age
    return {**identity, "status": "stale" if stale else "ok", "age_days": age}


class CheckPassed(_ReportPart):
    """A rule that was applied with every value it reads provided, and did not fire (a PolicyReport's "pass")."""

    rule_id: str
    article: str
    title: Localized


class NotProvided(_ReportPart):
    """A value the dossier does not give, and the rules that could not decide without it."""

    pointer: str = Field(description="JSON pointer of the value not provided")
    rules: list[str]


class Checks(_ReportPart):
    """What was checked besides the findings, worked out from the whole dossier before any redaction for a role,
    so a value hidden from a viewer is never reported as missing. ``batch`` leaves it out to stay lean."""

    passed: list[CheckPassed]
    not_provided: list[NotProvided]


def checks_made(pack: Pack, kind: str, dossier: dict[str, Any], findings: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The rules of ``pack`` for ``kind`` that did not fire, split into passed and undecided (shape of :class:`Checks`).

    Unknown is not false: a rule does not fire on a missing fact, so a rule that
    did not fire while a value it reads is absent decided nothing, and staff must
    see which value to ask for. A rule over a list the dossier leaves empty had
    nothing to check and is in neither list.
    """
    fired = {f["rule_id"] for f in findings}
    passed: list[dict[str, Any]] = []
    missing: dict[str, list[str]] = {}
    for resolved in pack.rules_for(kind):
        spec = resolved.rule.spec
        if spec.id in fired:
            continue
        each = (spec.for_each.in_, spec.for_each.as_) if spec.for_each else None
        pointers = list(_evidence_pointers(spec.evidence, each, dossier))
        if each is not None and not pointers:
            continue
        absent = [p for p in pointers if _at(dossier, p) is None]
        for pointer in absent:
            missing.setdefault(pointer, []).append(spec.id)
        if not absent:
            passed.append({"rule_id": spec.id, "article": resolved.article, "title": spec.title.model_dump()})
    return {"passed": passed, "not_provided": [{"pointer": p, "rules": r} for p, r in sorted(missing.items()) if not _under_missing(p, missing)]}


def _under_missing(pointer: str, missing: dict[str, list[str]]) -> bool:
    """Whether a parent of ``pointer`` is missing too (the parent is the value to ask for)."""
    while "/" in pointer.strip("/"):
        pointer = pointer.rpartition("/")[0]
        if pointer in missing:
            return True
    return False


def _evidence_pointers(evidence: list[str], each: tuple[str, str] | None, dossier: dict[str, Any]) -> Iterator[str]:
    """The pointers a rule's evidence names in this dossier (one per list item for a for_each rule over ``each``: (list, name))."""
    for path in evidence:
        steps = path.split(".")
        if each is not None and steps[0] == each[1]:
            base = "/" + each[0].replace(".", "/")
            items = _at(dossier, base)
            for index in range(len(items) if isinstance(items, list) else 0):
                yield f"{base}/{index}/" + "/".join(steps[1:])
        elif not steps[0].startswith("$"):
            yield "/" + "/".join(steps)


def _at(dossier: Any, pointer: str) -> Any:
    """The value at ``pointer``; None when absent or null (both are "not provided")."""
    node = dossier
    for step in pointer.strip("/").split("/"):
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return None
    return node


class Report(_ReportPart):
    report_version: Literal["1"] = REPORT_VERSION
    tool_version: str | None = Field(default=None, description="Version of dossier-rules that made the report (absent from reports made before 0.2)")
    dossier_id: str
    kind: Literal["candidate", "broker"]
    country: str
    outcome: Outcome = Field(description="blocked, review, clear or not_in_force: see the documentation of outcomes")
    source: str | None = None
    source_sha256: str | None = Field(
        default=None, description="SHA-256 of the record screened (without surrounding whitespace): what proves, later, which dossier this report is about"
    )
    submitted: date | None = Field(default=None, description="The dossier's submitted date (filters and first/last-seen views)")
    sector: str | None = Field(default=None, description="The candidate's sector, when given")
    as_of: date
    pack: str
    packs: list[PackUsed] | None = Field(default=None, description="Pack files used; in a batch output, in the run header instead (by pack id)")
    pack_status: PackStatus
    registries: list[RegistryUsed] | None = Field(default=None, description="Registries consulted; in a batch output, rebuilt from the run header")
    counts: dict[Severity, int] = Field(description="Findings by severity (data warnings are not counted)")
    findings: list[Finding]
    data_warnings: list[DataWarning] = Field(default_factory=list, description="Limits of this screening (pack status, registries); not findings")
    checks: Checks | None = Field(
        default=None, description="Rules passed and values not provided, from the whole dossier before redaction; left out of batch outputs"
    )
    generated_at: datetime | None = Field(default=None, description="The only field that differs between two runs on the same inputs")


class ErrorDetail(_ReportPart):
    kind: str
    message: str
    pointer: str | None = None
    line: int | None = None
    rule: str | None = None


class ErrorRecord(_ReportPart):
    """A record that could not be evaluated, and why; it stands in the output where its report would."""

    source: str
    outcome: Literal["unreadable"] = "unreadable"
    errors: list[ErrorDetail]
    code: str | None = Field(
        default=None,
        description="The refusal's stable code, for programs to act on (the service always sends one: `notice.not_found`, `request.invalid`, ...)",
    )
    params: dict[str, Any] | None = Field(default=None, description="The values the message was made from, by name (the service sends them with `code`)")


RESULTS_FORMAT: Final = "dossier-rules-results"
RESULTS_FORMAT_VERSION: Final = "1"


class RegistryIdentity(_ReportPart):
    """A registry a pack consults, independent of the date evaluated (``sha256`` null: not loaded)."""

    kind: str
    country: str
    sha256: str | None = None
    retrieved_on: date | None = None
    entries: int | None = None
    sample: bool | None = None


class EngineUsed(_ReportPart):
    program: Literal["dossier-rules"] = "dossier-rules"
    version: str
    backend: str = Field(description="The rule backend that decided which rules fire: one of the names --engine takes")


class RunOptions(_ReportPart):
    as_of: date | None = Field(description="The --as-of date; null: each dossier's submitted date")
    max_registry_age: int | None


class RunHeader(_ReportPart):
    """The first line of a ``batch`` output: what produced every record after it.

    Reports in a batch output leave out ``packs`` and ``registries`` (the same
    for every report of a pack); they are here once, by pack id.
    ``--resume`` continues an output only when this header matches the run
    about to continue it.
    """

    record_type: Literal["run"] = "run"
    format: Literal["dossier-rules-results"] = RESULTS_FORMAT
    format_version: Literal["1"] = RESULTS_FORMAT_VERSION
    report_version: Literal["1"] = REPORT_VERSION
    engine: EngineUsed
    options: RunOptions
    packset_sha256: str = Field(description="sha256 over every pack file used (id, version, sha256), sorted")
    packs: dict[str, list[PackUsed]] = Field(description="Pack id -> the pack files its reports use (the pack and what it extends)")
    registries_sha256: str = Field(description="sha256 over every registry identity below")
    registries: dict[str, list[RegistryIdentity]] = Field(description="Pack id -> the registries its rules consult")
    input: str = Field(description="The input as named on the command line (information; the checkpoints identify it)")
    started_at: datetime


class Checkpoint(_ReportPart):
    """Written after every chunk of a ``batch`` output: how much input the records before it came from.

    ``input_sha256`` hashes every record read so far (its name, and its bytes
    or the reason it could not be read), so ``--resume`` can prove that the
    input it is given starts with the same records.
    """

    record_type: Literal["checkpoint"] = "checkpoint"
    records: int
    input_bytes: int
    input_sha256: str
