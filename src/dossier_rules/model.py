"""The dossier model: what a candidate or broker dossier may contain.

This module is the single source of truth for dossiers. The JSON Schemas in
``schemas/`` are generated from it (``dossier-rules schemas write``), and the
condition compiler reads the same classes to check field paths and types
when a pack is loaded. Screening checks each dossier against the generated
schema and evaluates the parsed JSON itself (see
:func:`dossier_rules.sources.load_dossier`); the classes explain what is wrong
with a bad dossier and give API callers typed objects.

Unknown is not false: every fact that a submitter may not know is optional
and defaults to ``None``. ``None`` means "not provided"; an explicit
``false`` is a statement. Rules tell the two apart with ``missing:`` and
``eq: false``. Lists default to ``None`` too, so "no fees declared" differs
from "declared that no fees were paid" (``[]``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Final, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

SCHEMA_VERSION: Final = "1.0"


@dataclass(frozen=True)
class Vocabulary:
    """Marks a field of codes from an open list whose common values have labels (:data:`dossier_rules.labels.ENUMS`
    under ``name``), so that messages name a language, say, and not its code. It constrains nothing."""

    name: str


Country = Annotated[
    str,
    Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code of the partner country whose MOC applies"),
    Vocabulary("country"),
]
"""A partner country with an MOC. Which ones can be screened is decided by the rule packs present (one
concrete pack per country), not here: the published schemas list the countries of the packs they were
generated for (:mod:`dossier_rules.schemas`)."""

CountryFieldValue = bool | float | str
"""A value of a field a country's pack declares (``pack.dossier_fields``); a date is an ISO string."""


CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2"), Vocabulary("country")]
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$", description="ISO 639 code, e.g. km, lo, ky, tg, ur, en, ja"), Vocabulary("language")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
Amount = Annotated[float, Field(ge=0)]

PERSONAL: dict[str, Any] = {"x-personal": True}
"""Marks a field as the candidate's (or a relative's) personal data, in the model and the published schema.

Declared once here; notices withhold every field so marked (messages,
evidence, identity) unless personal data was asked for: see
:func:`personal_pointer` and :mod:`dossier_rules.sharing`.
"""

MAX_LIST_ITEMS = 200
"""The most items any list of a dossier may hold (``maxItems`` in the schema).

Real dossiers list a handful of fees or documents; the bound keeps one
record's findings and error record small (each item can give a finding per
rule), whatever a submitter sends.
"""

ISO_DATE_PATTERN = r"^(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}$"
"""What a date is, everywhere: strict ``YYYY-MM-DD``, year 0001 to 9999.

The schema pairs this pattern with ``format: date`` (which checks month and
day ranges but, alone, lets ``2025-01-0,`` or year ``0000`` through), so a
date the published schema accepts is exactly a date :func:`parse_date` (and
Python's ``date``) can read. ASCII digits only (``\\d`` admits other scripts) and no
look-ahead, so any JSON Schema validator reads the pattern the same way.
"""
_ISO_DATE = re.compile(ISO_DATE_PATTERN)

IsoDate = Annotated[date, Field(json_schema_extra={"pattern": ISO_DATE_PATTERN})]
"""The date type of every dossier field: the schema carries :data:`ISO_DATE_PATTERN`."""


def parse_date(text: Any) -> date | None:
    """The date ``text`` denotes under :data:`ISO_DATE_PATTERN`, or ``None`` when it is not one."""
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


Sector = Literal[
    "nursing_care",
    "building_cleaning",
    "industrial_products_manufacturing",
    "construction",
    "shipbuilding",
    "automobile_repair",
    "aviation",
    "accommodation",
    "automobile_transport",
    "railway",
    "agriculture",
    "fishery",
    "food_beverage_manufacturing",
    "food_service",
    "forestry",
    "wood_industry",
]
"""The SSW sectors (特定産業分野) in which Japan accepts workers."""

PartyRole = Literal[
    "sending_agency",
    "intermediary",
    "receiving_organisation",
    "support_organisation",
    "relative",
    "other",
]
"""Who a party is. ``sending_agency`` and ``intermediary`` are the 仲介機関 of art. 4(1)."""


class _DossierPart(BaseModel):
    """Base of every dossier part: unknown keys are errors, so typos surface.

    Validators are built on first use (``defer_build``): a ``check`` of a valid
    dossier validates it with the JSON Schema and never with these classes.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)


class Accreditation(_DossierPart):
    """A sending agency's accreditation by the partner ministry (KH 5(1); LA/KG/TJ 7(1))."""

    ministry: Text | None = None
    number: Text | None = None
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None
    revoked_on: IsoDate | None = Field(default=None, description="Date the accreditation was revoked (KH 5(4); LA/KG/TJ 7(4))")


class Party(_DossierPart):
    """A person or organisation named in a candidate dossier.

    ``id`` is the broker's stable identifier, the same value as the
    ``broker_id`` of its broker dossier (or that dossier's id when it names
    none), so that a party and the broker dossier about it are one party in
    every view, filter and notice; the other fields describe the party inline
    when there is no broker dossier.
    """

    id: Identifier | None = Field(
        default=None,
        description="The broker's stable identifier: the broker_id of its broker dossier (that dossier's id when it records none)",
    )
    name: Text | None = None
    role: PartyRole | None = None
    legal_form: Literal["individual", "corporate"] | None = None
    country: CountryCode | None = Field(
        default=None,
        description="Where the party is based; a party based neither in Japan nor in the partner country is outside 4(1)'s 「両国内」",
    )
    accreditation: Accreditation | None = None


class Identity(_DossierPart):
    """Who the candidate is: personal data as a whole."""

    name: Text = Field(json_schema_extra=PERSONAL)
    nationality: CountryCode | None = Field(default=None, json_schema_extra=PERSONAL)
    date_of_birth: IsoDate | None = Field(default=None, json_schema_extra=PERSONAL)
    passport_number: Text | None = Field(default=None, json_schema_extra=PERSONAL)


class Certificate(_DossierPart):
    """A sending-country certificate; for Cambodia the MoLVT Certificate of Registration (KH 5(3))."""

    kind: Literal["molvt_registration", "other"] | None = None
    issuer: Text | None = None
    number: Text | None = Field(default=None, json_schema_extra=PERSONAL)
    issue_date: IsoDate | None = None


class TestResult(_DossierPart):
    """A skills or Japanese-language test (KH art. 7; LA/KG/TJ/PK art. 5)."""

    kind: Literal["skills", "japanese"]
    name: Text | None = None
    certificate_number: Text | None = Field(default=None, json_schema_extra=PERSONAL)
    taken_on: IsoDate | None = None
    identity_verified: bool | None = None
    impersonation_reported: bool | None = Field(
        default=None, description="Was impersonation at this test (別人による受験) reported? A report alone shows no fraud"
    )
    other_fraud_reported: bool | None = Field(
        default=None, description="Was another improper act at this test (その他の不正な行為: cheating, a leaked paper, ...) reported?"
    )
    fraud_substantiated: bool | None = Field(
        default=None,
        description="Was the reported impersonation or other improper act substantiated (by the test body's or an authority's findings)? "
        "false: found unsubstantiated; null: not known",
    )
    certificate_forged_or_altered: bool | None = Field(default=None, description="Was the pass certificate examined and found forged or altered?")


class Fee(_DossierPart):
    """A fee or cost collected from the candidate (act (e) of 4(1))."""

    payer: Text | None = Field(default=None, json_schema_extra=PERSONAL)
    payee: Party | None = None
    amount: Amount | None = None
    currency: CurrencyCode | None = None
    purpose: Text | None = None
    basis_shown: bool | None = Field(default=None, description="Was the basis of calculation shown to the candidate?")
    breakdown_explained: bool | None = Field(default=None, description="Were the amount and its breakdown explained?")
    explanation_language: LanguageCode | None = None
    acknowledged: bool | None = Field(default=None, description="Did the candidate acknowledge understanding?")


class HeldItem(_DossierPart):
    """Money, documents or property held by someone on the candidate's behalf (act (a))."""

    item: Literal["passport", "deposit", "bank_book", "land_title", "residence_card", "other_property"]
    holder: Party | None = None
    owner: Literal["candidate", "relative", "associate"] | None = None
    amount: Amount | None = None
    currency: CurrencyCode | None = None
    description: Text | None = Field(default=None, json_schema_extra=PERSONAL, description="Free text about the candidate's case: treated as personal data")


class ContractClause(_DossierPart):
    """A clause of a contract the candidate signed or was asked to sign (act (b))."""

    kind: Literal["penalty", "unjust_transfer", "other"]
    party: Party | None = None
    concluded: bool | None = Field(
        default=None,
        description="Was the contract made (signed)? false: the candidate was only asked to sign; null: not known. 4(1)(b) is making such a contract (TJ: signing it)",
    )
    unlawful: bool | None = Field(
        default=None,
        description="Has the payment the clause imposes been shown to be unlawful? PK 4(1)(b) is a contract imposing an unlawful payment "
        "(不法な金銭の支払) on breach; null: not shown",
    )
    amount: Amount | None = None
    currency: CurrencyCode | None = None
    description: Text | None = Field(default=None, json_schema_extra=PERSONAL, description="Free text about the candidate's case: treated as personal data")


class Incident(_DossierPart):
    """A reported violation of the candidate's rights (act (c))."""

    kind: Literal["violence", "threat", "restriction_of_liberty", "other_rights_violation"]
    perpetrator: Party | None = None
    occurred_on: IsoDate | None = None
    description: Text | None = Field(default=None, json_schema_extra=PERSONAL, description="Free text about the candidate's case: treated as personal data")


class SubmittedDocument(_DossierPart):
    """A document used in immigration or visa procedures (act (d))."""

    kind: Text
    number: Text | None = Field(default=None, json_schema_extra=PERSONAL)
    provided_by: Party | None = None
    finding: Literal["authentic", "forged", "altered", "false"] | None = Field(default=None, description="Result of examination; absent when not examined")


class Dependent(_DossierPart):
    relation: Literal["spouse", "child"]
    name: Text | None = Field(default=None, json_schema_extra=PERSONAL)
    date_of_birth: IsoDate | None = Field(default=None, json_schema_extra=PERSONAL)
    accompanying: bool | None = None


class Envelope(_DossierPart):
    """What every dossier carries: identity of the record and the MOC it falls under."""

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    dossier_id: Identifier
    country: Country
    submitted: IsoDate
    country_fields: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], CountryFieldValue] | None = Field(
        default=None,
        description="Facts only one country's MOC asks for, as declared by that country's pack (dossier_fields); "
        "checked against the declaration when the dossier is screened",
    )


class CandidateDossier(Envelope):
    """A specified skilled worker candidate (特定技能外国人候補者)."""

    kind: Literal["candidate"]
    identity: Identity = Field(json_schema_extra=PERSONAL)
    languages: list[LanguageCode] | None = Field(default=None, max_length=MAX_LIST_ITEMS, description="Languages the candidate reads")
    residence: Literal["abroad", "japan"] | None = None
    status_sought: Literal["SSW1", "SSW2"] | None = None
    sector: Sector | None = None
    hire_route: Literal["sending_agency", "direct"] | None = None
    sending_agency: Party | None = None
    intermediaries: list[Party] | None = Field(
        default=None,
        max_length=MAX_LIST_ITEMS,
        description="Every party involved in the candidate's job seeking or the job offer as a go-between (仲介機関, 4(1): defined by "
        "what it does, individuals included). A party listed here is an intermediary for every 4(1) rule whatever its role "
        "(a relative or a fixer recorded as other); the same party elsewhere in the dossier is matched by id, else by name",
    )
    certificate: Certificate | None = None
    tests: list[TestResult] | None = Field(default=None, max_length=MAX_LIST_ITEMS)
    fees: list[Fee] | None = Field(default=None, max_length=MAX_LIST_ITEMS)
    held_property: list[HeldItem] | None = Field(default=None, max_length=MAX_LIST_ITEMS)
    contract_clauses: list[ContractClause] | None = Field(default=None, max_length=MAX_LIST_ITEMS)
    incidents: list[Incident] | None = Field(default=None, max_length=MAX_LIST_ITEMS)
    documents: list[SubmittedDocument] | None = Field(default=None, max_length=MAX_LIST_ITEMS)
    dependents: list[Dependent] | None = Field(default=None, max_length=MAX_LIST_ITEMS, json_schema_extra=PERSONAL)
    receiving_organisation_id: Identifier | None = None
    support_organisation_id: Identifier | None = None


class FeeSchedule(_DossierPart):
    published: bool | None = None
    basis_shown: bool | None = None
    breakdown_shown: bool | None = None


class Practices(_DossierPart):
    """Practices known of a broker; each one maps to an act of 4(1)."""

    holds_passports: bool | None = None
    takes_deposits: bool | None = None
    penalty_contracts: bool | None = None


class Complaint(_DossierPart):
    received_on: IsoDate | None = None
    act: Literal["a", "b", "c", "d", "e", "test_fraud", "other"] | None = None
    summary: Text | None = None
    substantiated: bool | None = None


class BrokerDossier(Envelope):
    """An intermediary (仲介機関) in either country: a sending agency or any other broker."""

    kind: Literal["broker"]
    broker_id: Identifier | None = Field(
        default=None,
        description="The broker's stable identifier, the same in every dossier about this broker: its accreditation or registration "
        "number where one exists, else an id the examiner assigns. Candidate dossiers name the broker by it (a party's id), and views, "
        "filters and notices group by it; when absent, the dossier id stands in, so each such dossier counts as a broker of its own",
    )
    name: Text
    role: Literal["sending_agency", "intermediary"] | None = None
    legal_form: Literal["individual", "corporate"] | None = None
    based_in: CountryCode | None = Field(default=None, description="Where the broker operates (JP or the partner country)")
    accreditation: Accreditation | None = None
    fee_schedule: FeeSchedule | None = None
    practices: Practices | None = None
    complaints: list[Complaint] | None = Field(default=None, max_length=MAX_LIST_ITEMS)


def personal_fields(model: type[BaseModel], at: str = "") -> list[str]:
    """Pointer patterns of every field marked :data:`PERSONAL` (``*`` for any list index)."""
    found = []
    for name, info in model.model_fields.items():
        here = f"{at}/{name}"
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get("x-personal"):
            found.append(here)
            continue
        for inner in _models_in(info.annotation):
            found.extend(personal_fields(inner, here + ("/*" if _is_list(info.annotation) else "")))
    return found


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _is_list(annotation: Any) -> bool:
    return get_origin(annotation) is list or any(_is_list(arg) for arg in get_args(annotation))


Dossier = Annotated[CandidateDossier | BrokerDossier, Field(discriminator="kind")]
DOSSIER_ADAPTER: TypeAdapter[CandidateDossier | BrokerDossier] = TypeAdapter(Dossier, config=ConfigDict(defer_build=True))
"""Both kinds by their ``kind``; built on first use, to explain an invalid dossier (see :class:`_DossierPart`)."""

KINDS: dict[str, type[Envelope]] = {"candidate": CandidateDossier, "broker": BrokerDossier}

_PERSONAL = re.compile("^(?:" + "|".join(re.escape(p).replace(r"/\*", "/[0-9]+") for k in KINDS.values() for p in personal_fields(k)) + ")(?:/|$)")


def personal_pointer(pointer: str) -> bool:
    """Whether the JSON pointer (into any dossier kind) is, or is inside, a field marked :data:`PERSONAL`."""
    return _PERSONAL.match(pointer) is not None


def without_personal(value: Any, at: str = "") -> Any:
    """Dossier JSON with every field marked :data:`PERSONAL` left out, at any depth."""
    if isinstance(value, dict):
        return {k: without_personal(v, f"{at}/{k}") for k, v in value.items() if not personal_pointer(f"{at}/{k}")}
    if isinstance(value, list):
        return [without_personal(v, f"{at}/{i}") for i, v in enumerate(value)]
    return value
