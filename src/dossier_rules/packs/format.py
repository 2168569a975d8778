"""The pack file's format: the pydantic models of ``rules/*.yaml`` and the JSON Schema validator built from them.

These models are the one description of a pack file: ``schemas/pack.schema.json``
is generated from them, loading validates against it, and ``packs fmt`` writes
keys in the order the fields are declared here.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..model import Country
from ..registries import Entry, RegistryKind

if TYPE_CHECKING:
    import jsonschema


Severity = Literal["block", "warn", "info"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warn": 1, "block": 2}
Act = Literal["a", "b", "c", "d", "e", "test_fraud", "revocation"]
"""What a shared finding is: an act of 4(1), test fraud, or a revoked accreditation (the partner acts on it)."""
Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")

IsoDate = date


# --------------------------------------------------------------------------- the file format


class _PackPart(BaseModel):
    """Base of the pack file's parts; validators built on first use, as packs from the cache are never validated again."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class Localized(_PackPart):
    """The same text in Japanese and English."""

    ja: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Ministry(Localized):
    abbrev: str | None = None


class ContactPoints(_PackPart):
    """The contact points designated in art. 2 of the MOC."""

    article: str
    japan: Localized
    partner: Localized


class Confidentiality(_PackPart):
    """Art. 3: what may be disclosed of shared information, and to whom."""

    article: str
    scope: Literal["third_parties", "anyone"] = Field(
        description="third_parties: no disclosure to third parties without written consent; anyone: no disclosure at all without it"
    )
    text: Localized


class Signing(_PackPart):
    on: IsoDate
    place: str


class InForce(_PackPart):
    """The period in force. ``starts_on`` is null while the start depends on an event not yet known."""

    article: str
    starts_on: IsoDate | None = None
    start_assumed: bool = Field(
        default=False,
        description="The text gives no single start date (no start clause, or two signature dates): starts_on is the pack's reading, "
        "and reports say so, quoting start_rule",
    )
    ends_on: IsoDate | None = None
    start_rule: Localized | None = None
    end_rule: Localized | None = None


class Moc(_PackPart):
    partner_ministry: Ministry
    contact_points: ContactPoints
    confidentiality: Confidentiality
    signed: list[Signing] = Field(min_length=1)
    in_force: InForce


class ArticleEntry(_PackPart):
    """One provision of the MOC, for the provision matrix (``docs/coverage.md``)."""

    article: str = Field(description="As cited by rules, e.g. '5(3)' or '{information_sharing}(e)'")
    title: Localized
    not_checkable: Localized | None = Field(default=None, description="Why no rule checks this on a dossier")
    note: Localized | None = Field(default=None, description="What part of the provision the rules do not cover, if any")
    acceptance: Localized | None = Field(
        default=None,
        description="What this provision's text says about accepting or sending candidates, when it can make an application "
        "unacceptable; a block rule whose basis names no domestic instrument must rest on such a provision",
    )


class DeclaredField(_PackPart):
    """A dossier field one country's MOC needs and the common model does not have (``country_fields.<name>``)."""

    type: Literal["string", "number", "bool", "date"]
    choices: dict[str, Localized] | list[str] | None = Field(
        default=None,
        min_length=1,
        description="The possible values of a string field, each with its label in both languages: {VALUE: {ja: ..., en: ...}} "
        "(a bare list is refused with a message saying so)",
    )
    title: Localized

    @property
    def values(self) -> list[str]:
        """The possible values, in the order the pack declares them (none: any text)."""
        return list(self.choices or ())

    def labels(self) -> dict[str, tuple[str, str]]:
        """Each value's (ja, en) label, as declared."""
        return {v: (t.ja, t.en) for v, t in self.choices.items()} if isinstance(self.choices, dict) else {}


class PackMeta(_PackPart):
    """The ``pack`` part. The fields are declared in the order ``packs fmt`` writes them (the shipped packs' order)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    abstract: bool = Field(default=False, description="An abstract pack holds shared rules and is only used through extends")
    country: Country | None = None
    country_name: Localized | None = Field(default=None, description="The country's names as the MOC gives them; without it, CLDR's (concrete packs only)")
    currency: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{3}$",
        description="The ISO 4217 currency fees for this country's candidates are usually quoted in, offered first by the form; "
        "without it, CLDR's currency of the country (KHR for Cambodia, where fees are quoted in US dollars) (concrete packs only)",
    )
    extends: list[str] = Field(default_factory=list)
    title: Localized
    description: Localized | None = None
    moc: Moc | None = None
    wording: dict[str, Localized] = Field(
        default_factory=dict,
        description="Words of this MOC's text where the five differ (4(1)(b) PK 不法な金銭の支払, TJ 署名; 4(1)(e) 十分に理解/認識させ), "
        "by name; messages quote them as {@name}, so a shared rule never carries one country's wording into another's findings",
    )
    provisions: dict[str, str] = Field(default_factory=dict, description="Article numbers of this MOC, by name; rules cite them as {name}")
    articles: list[ArticleEntry] = Field(default_factory=list, description="The MOC's provisions, for the provision matrix")
    dossier_fields: dict[Literal["candidate", "broker"], dict[str, DeclaredField]] = Field(
        default_factory=dict,
        description="Country-specific dossier fields (concrete packs only), by dossier kind: dossiers carry them "
        "under country_fields and this pack's rules read them as country_fields.<name>",
    )

    def fields_for(self, kind: str) -> dict[str, DeclaredField]:
        """The country fields declared for one kind of dossier (none for a kind this pack does not declare)."""
        return next((fields for known, fields in self.dossier_fields.items() if known == kind), {})


class Share(_PackPart):
    """The finding is information to share under art. 4(1) (acts a-e) or the test-fraud article."""

    act: Act


class DomesticInstrument(_PackPart):
    """A Japanese legal instrument, by name and article, that makes a finding a reason to refuse where the MOC only asks to share."""

    instrument: Localized = Field(description="The instrument's name, e.g. 出入国管理及び難民認定法")
    article: Localized = Field(description="The article or item in it, e.g. 第7条第1項第2号 / art. 7(1)(ii)")


class Basis(_PackPart):
    """What makes a finding of this rule make the application unacceptable (block rules only).

    Either the MOC's own text (``article`` is then a provision whose entry in ``pack.articles`` carries
    ``acceptance``), or a Japanese legal instrument named under ``domestic``, cited beside the MOC article.
    """

    article: str = Field(
        description="The MOC article cited for it, as cited by the rule ('5(2)' or '{certificate}'); must be the rule's article or one of its 'also'"
    )
    text: Localized = Field(description="What makes the application unacceptable, in a sentence")
    domestic: DomesticInstrument | None = Field(
        default=None, description="The Japanese legal instrument and article that make it a requirement, when the MOC's text does not"
    )


class ForEach(_PackPart):
    """Evaluate the rule once per item of a list; one finding per matching item."""

    in_: str = Field(alias="in")
    as_: str = Field(alias="as")


class TestCase(_PackPart):
    name: str = Field(min_length=1)
    expect: Literal["fire", "pass"]
    count: int | None = Field(default=None, ge=1, description="Exact number of findings expected when it fires")
    as_of: IsoDate | None = None
    registries_retrieved_on: IsoDate | None = Field(
        default=None, description="The day the pack's test registries are taken to have been retrieved (default: never older than the date evaluated)"
    )
    dossier: dict[str, Any] = Field(default_factory=dict, description="JSON merge patch (RFC 7386) applied to the pack's test_base for this kind")


class RuleSpec(_PackPart):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$")
    title: Localized
    article: str = Field(description="Article of the MOC, e.g. '5(3)' or '{information_sharing}(e)'")
    also: list[str] = Field(default_factory=list)
    applies_to: Literal["candidate", "broker"]
    severity: Severity
    basis: Basis | None = Field(default=None, description="Required for block rules: the text that makes the application unacceptable")
    share: Share | None = None
    subject: str | None = Field(
        default=None, description="Path to the party the finding is about (the intermediary a sharing notice names); broker rules are about the broker"
    )
    for_each: ForEach | None = None
    when: dict[str, Any] = Field(description="The condition (see docs/authoring.md)")
    message: Localized = Field(description="What was found, read as information: the effect under the MOC goes in 'effect'")
    effect: Localized | None = Field(
        default=None,
        description="The sentence saying what the finding does under the MOC (shared with the partner, application not acceptable); "
        "appended to the message only while the MOC is in force, so a finding without MOC effect reads as information. "
        "Required for block and shared rules",
    )
    evidence: list[str] = Field(default_factory=list)
    tests: list[TestCase] = Field(default_factory=list)


class TestBase(_PackPart):
    candidate: dict[str, Any] | None = None
    broker: dict[str, Any] | None = None


MAX_RULES_PER_PACK = 1000
"""Rules one pack file may hold: the largest shipped pack has under 20; a bound keeps load time bounded."""


class PackFile(_PackPart):
    """One ``rules/*.yaml`` file."""

    pack: PackMeta
    test_base: TestBase | None = None
    test_registries: dict[RegistryKind, list[Entry]] = Field(
        default_factory=dict, description="Registry entries the rule tests run against (by kind; for the pack's country or JP)"
    )
    rules: list[RuleSpec] = Field(default_factory=list, max_length=MAX_RULES_PER_PACK)


_SCHEMA_VALIDATOR: jsonschema.Draft202012Validator | None = None


def schema_validator() -> jsonschema.Draft202012Validator:
    """The pack schema's validator, built on first use (packs read from the compiled-pack cache need none)."""
    global _SCHEMA_VALIDATOR
    if _SCHEMA_VALIDATOR is None:
        import jsonschema

        schema = PackFile.model_json_schema()
        _SCHEMA_VALIDATOR = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return _SCHEMA_VALIDATOR
