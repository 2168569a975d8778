"""The API's contract pieces shared by the routes: strict dates, the error record's responses, answer models.

The OpenAPI document is generated from these and from the routes' own models,
so a client generated from it gets the types the code uses: the report and
error record of :mod:`dossier_rules.report`, the notice of
:mod:`dossier_rules.sharing`. Models here describe answers the services build
as plain data; each route declares one as its ``response_model``, so an
answer that strays from its description fails loudly instead of reaching a
client untyped.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from ..packs import Localized
from ..report import ErrorRecord, Report

DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _calendar_day(value: Any) -> Any:
    """Only ``YYYY-MM-DD``: pydantic alone would read ``0`` or ``1700000000`` as a date (seconds since 1970)."""
    if isinstance(value, date) or (isinstance(value, str) and re.fullmatch(DAY_PATTERN, value)):
        return value
    raise ValueError("expected a date as YYYY-MM-DD")


Day = Annotated[date, BeforeValidator(_calendar_day), WithJsonSchema({"type": "string", "format": "date", "pattern": DAY_PATTERN})]
"""A calendar date written ``YYYY-MM-DD``, and nothing else (every date in a query or body of the API)."""


def _unicode(value: str) -> str:
    """JSON can escape half a surrogate pair (``"\\ud800"``): not text a database or a log can hold."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text (a lone surrogate)") from None
    return value


Text = Annotated[str, AfterValidator(_unicode)]
"""A string from a JSON body that is stored or logged: valid Unicode only."""

REFUSAL_TEXT = {
    400: "Malformed request: the body is not JSON, not UTF-8, or its Content-Length is not a number",
    401: "Not signed in: no valid personal token or session cookie (`WWW-Authenticate: Bearer`)",
    403: "The caller's role does not allow this, or a cookie session sent no or a wrong `X-CSRF-Token`",
    404: "No such resource",
    409: "The resource's state does not allow this",
    413: "The request body is larger than the service's limit",
    415: "The body's Content-Type is not one this operation reads",
    422: "The request is well-formed but invalid: each problem located by a JSON pointer",
    429: "Too many failed sign-ins: wait as `Retry-After` says",
}
"""What each refusal status means, for the document; the body is always an error record."""

HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "`Bearer`: how to authenticate", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}},
}


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries: each status answered with an error record (schemas/error-record.schema.json)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorRecord, "description": REFUSAL_TEXT[status]}
        if status in HEADERS:
            entry["headers"] = HEADERS[status]
        out[status] = entry
    return out


def created(description: str, location: str) -> dict[int | str, dict[str, Any]]:
    """The 201 of an operation that creates a resource: its ``Location``."""
    return {201: {"description": description, "headers": {"Location": {"description": location, "schema": {"type": "string"}, "required": True}}}}


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Inputs(_Answer):
    """What a report was made with: the date evaluated, the hashes of its packs and registries."""

    as_of: date
    packs: list[dict[str, str]]
    registries: list[dict[str, str | None]]


class StoredScreening(_Answer):
    """A stored screening as the log holds it, redacted for roles the team's policy does not let see identity."""

    screening_id: str
    screened_by: str
    screened_at: str
    log_seq: int | None = Field(default=None, description="The log entry holding it (reading one screening)")
    log_hash: str | None = Field(default=None, description="That entry's hash (reading one screening)")
    dossier_sha256: str
    dossier: dict[str, Any] | None = Field(description="The dossier screened (schemas/dossier.schema.json); null when the service keeps only its SHA-256")
    report: Report
    inputs: Inputs
    rescreen_of: str | None = Field(default=None, description="The screening this one screened again")
    redacted: bool | None = Field(default=None, description="True when candidates' identity was left out for the caller's role")


class FindingCounts(_Answer):
    block: int
    warn: int
    info: int


class ScreeningSummary(_Answer):
    """What a listing shows of one stored screening: read from indexed columns, never from the stored report; no personal data."""

    screening_id: str
    dossier_id: str
    country: str
    kind: Literal["candidate", "broker"]
    outcome: str | None = Field(description="blocked, review, clear or not_in_force; null for a screening stored before outcomes were indexed")
    counts: FindingCounts = Field(description="Findings by severity")
    as_of: str | None
    submitted: str | None
    rescreen_of: str | None = Field(description="The screening this one re-screened, if any")
    screened_by: str
    screened_at: str


class ScreeningPage(_Answer):
    """One page of summaries of stored screenings, newest first; read a whole screening by its id."""

    items: list[ScreeningSummary]
    next: str | None = Field(description="Pass as ?after= to get the next page; null on the last page")


class Receipt(_Answer):
    """What a client keeps to prove later that an entry is in the screening log (check it with `dossier-rules log check-receipt`)."""

    entry: int = Field(description="The log entry (1 is the first)")
    leaf_index: int = Field(description="Its leaf in the Merkle tree (entry - 1)")
    leaf_hash: str = Field(description="SHA-256 of 0x00 and the entry (hex)")
    tree_size: int = Field(description="Entries the checkpoint covers")
    inclusion_proof: list[str] = Field(description="RFC 9162 inclusion proof, hashes in hex")
    checkpoint: str = Field(description="The signed checkpoint (signed-note text) that includes the entry")


class ScreeningOut(_Answer):
    """A screened dossier: the id it is stored under, its report, and the receipt of its log entry."""

    screening_id: str
    report: Report
    receipt: Receipt | None = Field(default=None, description="The log receipt of this screening")


class OutcomeChange(_Answer):
    old: str | None
    new: str | None


class Changes(_Answer):
    """What differs between the old report and the new one."""

    outcome: OutcomeChange
    added: list[dict[str, Any]] = Field(description="Findings only in the new report (the report's finding shape)")
    removed: list[dict[str, Any]] = Field(description="Findings only in the old report")
    unchanged: int
    inputs_changed: bool
    old_inputs: Inputs
    new_inputs: Inputs


class Rescreening(_Answer):
    """A stored dossier screened again: the old and new reports and what changed (null when the new one is an error record)."""

    screening_id: str | None = Field(default=None, description="The new screening's id; absent when the dossier could not be screened")
    old: Report
    new: Report | ErrorRecord
    changes: Changes | None
    receipt: Receipt | None = Field(default=None, description="The log receipt of the new screening")


class InForce(_Answer):
    starts_on: date | None
    ends_on: date | None
    article: str | None


class PackInfo(_Answer):
    id: str
    version: str
    country: str | None
    abstract: bool
    extends: list[str]
    title: Localized
    rules: int
    file: str = Field(description="Relative to the service's pack directory")
    sha256: str
    in_force: InForce | None


class RuleDefinedIn(_Answer):
    file: str
    line: int | None


class RuleCitation(_Answer):
    pack: str
    article: str
    also: list[str]


class RuleTest(_Answer):
    name: str
    expect: Any
    count: int | None
    as_of: date | None
    line: int | None


class RuleExplained(_Answer):
    """One rule, as `dossier-rules explain` shows it."""

    id: str
    title: Localized
    pack: str
    defined_in: RuleDefinedIn
    cites: list[RuleCitation]
    applies_to: Any
    severity: str
    share: str | None
    for_each: dict[str, str] | None
    condition: list[str]
    evidence: list[str]
    registries: list[str]
    message: Localized
    tests: list[RuleTest]


class ArticleCoverage(_Answer):
    article: str
    title: Localized
    rules: list[str]
    not_checkable: Localized | None
    note: Localized | None
    unencoded: bool


class PackCoverage(_Answer):
    pack: str
    country: str | None
    articles: list[ArticleCoverage]


class RegistryInfo(_Answer):
    country: str
    kind: str
    entries: int
    retrieved_on: date
    age_days: int
    stale: bool
    sample: bool
    source: str
    file: str = Field(description="Relative to the service's registries directory")
    sha256: str


class RegistryImported(_Answer):
    country: str
    kind: str
    entries: int


class Health(_Answer):
    status: Literal["ok"]


class Readiness(_Answer):
    status: Literal["ready", "not ready"]
    packs: list[str]
    problem: str | None = Field(default=None, description="Why the service is not ready (no packs, a database that cannot take a write now, a full disk)")
