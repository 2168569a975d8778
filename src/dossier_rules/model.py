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

from datetime import date
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

SCHEMA_VERSION = "1.0"

Country = Annotated[
    str,
    Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code of the partner country whose MOC applies"),
]
"""A partner country with an MOC. Which ones can be screened is decided by the rule packs present (one
concrete pack per country), not here: the published schemas list the countries of the packs they were
generated for (:mod:`dossier_rules.schemas`)."""

CountryFieldValue = Union[bool, float, str]
"""A value of a field a country's pack declares (``pack.dossier_fields``); a date is an ISO string."""

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$", description="ISO 639 code, e.g. km, lo, ky, tg, ur, en, ja")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
Amount = Annotated[float, Field(ge=0)]

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


class _Strict(BaseModel):
    """Base of every dossier part: unknown keys are errors, so typos surface."""

    model_config = ConfigDict(extra="forbid")


class Accreditation(_Strict):
    """A sending agency's accreditation by the partner ministry (KH 5(1); LA/KG/TJ 7(1))."""

    ministry: Text | None = None
    number: Text | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    revoked_on: date | None = Field(default=None, description="Date the accreditation was revoked (KH 5(4); LA/KG/TJ 7(4))")


class Party(_Strict):
    """A person or organisation named in a candidate dossier.

    ``id`` refers to a broker dossier when there is one; the other fields
    describe the party inline when there is not.
    """

    id: Identifier | None = None
    name: Text | None = None
    role: PartyRole | None = None
    legal_form: Literal["individual", "corporate"] | None = None
    country: CountryCode | None = None
    accreditation: Accreditation | None = None


class Identity(_Strict):
    name: Text
    nationality: CountryCode | None = None
    date_of_birth: date | None = None
    passport_number: Text | None = None


class Certificate(_Strict):
    """A sending-country certificate; for Cambodia the MoLVT Certificate of Registration (KH 5(3))."""

    kind: Literal["molvt_registration", "other"] | None = None
    issuer: Text | None = None
    number: Text | None = None
    issue_date: date | None = None


class TestResult(_Strict):
    """A skills or Japanese-language test (KH art. 7; LA/KG/TJ/PK art. 5)."""

    kind: Literal["skills", "japanese"]
    name: Text | None = None
    certificate_number: Text | None = None
    taken_on: date | None = None
    identity_verified: bool | None = None
    impersonation_reported: bool | None = None
    certificate_forged_or_altered: bool | None = None


class Fee(_Strict):
    """A fee or cost collected from the candidate (act (e) of 4(1))."""

    payer: Text | None = None
    payee: Party | None = None
    amount: Amount | None = None
    currency: CurrencyCode | None = None
    purpose: Text | None = None
    basis_shown: bool | None = Field(default=None, description="Was the basis of calculation shown to the candidate?")
    breakdown_explained: bool | None = Field(default=None, description="Were the amount and its breakdown explained?")
    explanation_language: LanguageCode | None = None
    acknowledged: bool | None = Field(default=None, description="Did the candidate acknowledge understanding?")


class HeldItem(_Strict):
    """Money, documents or property held by someone on the candidate's behalf (act (a))."""

    item: Literal["passport", "deposit", "bank_book", "land_title", "residence_card", "other_property"]
    holder: Party | None = None
    owner: Literal["candidate", "relative", "associate"] | None = None
    amount: Amount | None = None
    currency: CurrencyCode | None = None
    description: Text | None = None


class ContractClause(_Strict):
    """A clause of a contract the candidate signed or was asked to sign (act (b))."""

    kind: Literal["penalty", "unjust_transfer", "other"]
    party: Party | None = None
    concluded: bool | None = Field(
        default=None,
        description="Was the contract made (signed)? false: the candidate was only asked to sign; null: not known. 4(1)(b) is making such a contract (TJ: signing it)",
    )
    amount: Amount | None = None
    currency: CurrencyCode | None = None
    description: Text | None = None


class Incident(_Strict):
    """A reported violation of the candidate's rights (act (c))."""

    kind: Literal["violence", "threat", "restriction_of_liberty", "other_rights_violation"]
    perpetrator: Party | None = None
    occurred_on: date | None = None
    description: Text | None = None


class SubmittedDocument(_Strict):
    """A document used in immigration or visa procedures (act (d))."""

    kind: Text
    number: Text | None = None
    provided_by: Party | None = None
    finding: Literal["authentic", "forged", "altered", "false"] | None = Field(
        default=None, description="Result of examination; absent when not examined"
    )


class Dependent(_Strict):
    relation: Literal["spouse", "child"]
    name: Text | None = None
    date_of_birth: date | None = None
    accompanying: bool | None = None


class Envelope(_Strict):
    """What every dossier carries: identity of the record and the MOC it falls under."""

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    dossier_id: Identifier
    country: Country
    submitted: date
    country_fields: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], CountryFieldValue] | None = Field(
        default=None,
        description="Facts only one country's MOC asks for, as declared by that country's pack (dossier_fields); "
        "checked against the declaration when the dossier is screened",
    )


class CandidateDossier(Envelope):
    """A specified skilled worker candidate (特定技能外国人候補者)."""

    kind: Literal["candidate"]
    identity: Identity
    languages: list[LanguageCode] | None = Field(default=None, description="Languages the candidate reads")
    residence: Literal["abroad", "japan"] | None = None
    status_sought: Literal["SSW1", "SSW2"] | None = None
    sector: Sector | None = None
    hire_route: Literal["sending_agency", "direct"] | None = None
    sending_agency: Party | None = None
    intermediaries: list[Party] | None = None
    certificate: Certificate | None = None
    tests: list[TestResult] | None = None
    fees: list[Fee] | None = None
    held_property: list[HeldItem] | None = None
    contract_clauses: list[ContractClause] | None = None
    incidents: list[Incident] | None = None
    documents: list[SubmittedDocument] | None = None
    dependents: list[Dependent] | None = None
    receiving_organisation_id: Identifier | None = None
    support_organisation_id: Identifier | None = None


class FeeSchedule(_Strict):
    published: bool | None = None
    basis_shown: bool | None = None
    breakdown_shown: bool | None = None


class Practices(_Strict):
    """Practices known of a broker; each one maps to an act of 4(1)."""

    holds_passports: bool | None = None
    takes_deposits: bool | None = None
    penalty_contracts: bool | None = None


class Complaint(_Strict):
    received_on: date | None = None
    act: Literal["a", "b", "c", "d", "e", "test_fraud", "other"] | None = None
    summary: Text | None = None
    substantiated: bool | None = None


class BrokerDossier(Envelope):
    """An intermediary (仲介機関) in either country: a sending agency or any other broker."""

    kind: Literal["broker"]
    name: Text
    role: Literal["sending_agency", "intermediary"] | None = None
    legal_form: Literal["individual", "corporate"] | None = None
    based_in: CountryCode | None = Field(default=None, description="Where the broker operates (JP or the partner country)")
    accreditation: Accreditation | None = None
    fee_schedule: FeeSchedule | None = None
    practices: Practices | None = None
    complaints: list[Complaint] | None = None


Dossier = Annotated[Union[CandidateDossier, BrokerDossier], Field(discriminator="kind")]
DOSSIER_ADAPTER: TypeAdapter[CandidateDossier | BrokerDossier] = TypeAdapter(Dossier)

KINDS: dict[str, type[Envelope]] = {"candidate": CandidateDossier, "broker": BrokerDossier}

