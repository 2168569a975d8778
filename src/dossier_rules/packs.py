"""Rule packs: the YAML format, loading with located errors, ``extends`` and per-country articles.

A pack file has three parts: ``pack`` (metadata, including the MOC facts
the sharing notices need), ``test_base`` (a clean dossier per kind that
rule tests patch), and ``rules``. Loading goes: read YAML safely with line
numbers -> validate against ``schemas/pack.schema.json`` (generated from the
models below) -> compile every rule against the dossier schema -> resolve
``extends`` and turn each rule's article template into the canonical
citation of the concrete pack's own MOC (``MOC-KH 4(1)(e)``).

A rule written once in the abstract ``common`` pack says
``article: "{information_sharing}(e)"``; each country pack maps
``information_sharing`` to its own article number, so a Kyrgyz finding
cites ``MOC-KG 4(1)(e)`` and a Pakistani test-fraud finding ``MOC-PK 5``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from . import conditions as cond
from . import input_errors
from .labels import declare, declare_currency, declared_enum, enum_of, is_currency, label
from .locale import _, language
from .model import KINDS, Country, Party
from .registries import Entry, RegistryKind, keeper
from .sources import InputError, Problem, line_of, load_yaml, without_nulls

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


def _schema_validator() -> jsonschema.Draft202012Validator:
    """The pack schema's validator, built on first use (packs read from the compiled-pack cache need none)."""
    global _SCHEMA_VALIDATOR
    if _SCHEMA_VALIDATOR is None:
        import jsonschema

        schema = PackFile.model_json_schema()
        _SCHEMA_VALIDATOR = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return _SCHEMA_VALIDATOR


# --------------------------------------------------------------------------- compiled rules


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Wording:
    """A ``{@name}`` placeholder: the words of the concrete pack's MOC (``pack.wording``), filled in when packs are linked."""

    name: str


@dataclass(frozen=True)
class Template:
    """A message with ``{path}`` placeholders, checked at load and filled from the dossier.

    As written in a pack it may also hold ``{@name}`` wordings; a rule's templates as a concrete pack applies
    them (:attr:`ResolvedRule.messages`) have those replaced by that MOC's words.
    """

    parts: tuple[str | cond.Path | Wording, ...]

    def render(self, env: cond.Env, lang: Lang) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, cond.Path):
                out.append(show_value(part.getter(env), lang, enum_name(part)))
            else:
                raise ValueError(f"wording {{@{part.name}}} is not resolved: render the templates of a linked pack's rule")
        return "".join(out)

    def wordings(self) -> set[str]:
        return {p.name for p in self.parts if isinstance(p, Wording)}

    def with_wording(self, wording: dict[str, Localized], lang: str) -> Template:
        """This template with every ``{@name}`` replaced by the words ``wording`` gives it in ``lang`` (adjacent text merged)."""
        parts: list[str | cond.Path | Wording] = []
        for part in self.parts:
            text = getattr(wording[part.name], lang) if isinstance(part, Wording) else part
            if isinstance(text, str) and parts and isinstance(parts[-1], str):
                parts[-1] += text
            else:
                parts.append(text)
        return Template(tuple(parts))


def enum_name(path: cond.Path) -> str | None:
    """The enumeration (:data:`dossier_rules.labels.ENUMS`) of the field a message quotes, or of its items; None for free text."""
    ftype = path.type.item if path.type.kind == "list" and path.type.item else path.type
    return ftype.vocabulary or enum_of(ftype.choices)


def show_value(value: Any, lang: Lang, enum: str | None = None) -> str:
    """How a dossier value reads inside a message: an enumerated code by its label in ``enum``, never raw."""
    if value.__class__ is str:  # most values quoted are text: checked first, as every finding's message calls this
        return label(value, lang, enum) if enum else value
    if value is None:
        return "記載なし" if lang == "ja" else "(not provided)"
    if isinstance(value, bool):
        return ("はい" if value else "いいえ") if lang == "ja" else ("yes" if value else "no")
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, (int, float)):
        return f"{value:,}"
    if isinstance(value, list):
        return ("、" if lang == "ja" else ", ").join(show_value(v, lang, enum) for v in value)
    if isinstance(value, dict):
        name = value.get("name") or value.get("id")
        return str(name) if name else str(without_nulls(value))
    return str(value)


def compile_template(text: str, scope: cond.Scope, line: int | None) -> Template:
    parts: list[str | cond.Path | Wording] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append(text[pos : match.start()])
        name = match.group(1).strip()
        if name.startswith("@"):
            if not re.fullmatch(r"@[a-z][a-z0-9_]*", name):
                raise cond.ConditionError(f"a wording placeholder is {{@name}} in lower-case letters, digits and '_', got {{{name}}}", line)
            parts.append(Wording(name[1:]))
        else:
            parts.append(cond.resolve(name, scope, line))
        pos = match.end()
    parts.append(text[pos:])
    return Template(tuple(p for p in parts if p != ""))


@dataclass(frozen=True)
class CompiledRule:
    """A rule as written in its pack, checked and compiled; its article is still a template."""

    spec: RuleSpec
    pack_id: str
    source: str
    line: int | None
    condition: cond.Node
    for_each: cond.Path | None
    evidence: tuple[cond.Path, ...]
    messages: dict[Lang, Template]
    test_lines: tuple[int | None, ...]
    registries: frozenset[str]
    subject: cond.Path | None
    article_line: int | None

    @property
    def id(self) -> str:
        return self.spec.id

    @cached_property
    def program(self) -> cond.Program:
        """The condition as closures (the interpreter), built on first use: packs read from the cache have none."""
        return self.condition.program()

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without its closures (see :mod:`dossier_rules.pack_cache`); they are rebuilt on use."""
        return {k: v for k, v in self.__dict__.items() if k != "program"}


@dataclass(frozen=True)
class ResolvedRule:
    """A rule as a concrete pack applies it: the article cites that pack's own MOC."""

    rule: CompiledRule
    article: str
    also: tuple[str, ...]
    basis: dict[str, Any] | None = None
    """What makes the finding a reason to refuse (block rules): see :class:`Basis`, with the article resolved."""
    messages: dict[Lang, Template] = field(default_factory=dict)
    """The rule's message templates (message and effect) in this MOC's wording: what findings are rendered from."""
    effect: dict[str, str] | None = None
    """The effect sentence as it ends the message, in this MOC's wording (None: the rule has none)."""


@dataclass(frozen=True)
class PackSource:
    """One loaded pack file."""

    spec: PackFile
    path: FsPath
    sha256: str
    rules: tuple[CompiledRule, ...]
    data: Any

    @property
    def id(self) -> str:
        return self.spec.pack.id


@dataclass(frozen=True)
class Pack:
    """A concrete pack: one country's MOC with everything it extends, ready to evaluate.

    ``chain`` lists the packs it is built from in resolution order: what it
    extends first, itself last, so later entries override earlier ones.
    """

    source: PackSource
    chain: tuple[PackSource, ...]
    rules: tuple[ResolvedRule, ...]

    @property
    def id(self) -> str:
        return self.source.id

    @property
    def meta(self) -> PackMeta:
        return self.source.spec.pack

    @property
    def moc(self) -> Moc:
        assert self.meta.moc is not None  # checked at load for concrete packs
        return self.meta.moc

    @property
    def country(self) -> str:
        assert self.meta.country is not None
        return self.meta.country

    def inventory(self) -> list[tuple[str, ArticleEntry]]:
        """Every provision listed by this pack and what it extends, cited in this MOC's numbering.

        A pack may list an article that a pack it extends lists too: its own entry wins, because
        texts that share an article number do not always say the same (LA 8 has no temporary passports).
        """
        provisions = self.provisions()
        entries: dict[str, ArticleEntry] = {}
        for source in self.chain:
            for entry in source.spec.pack.articles:
                entries[_resolve_article(entry.article, provisions, self.country)] = entry
        return list(entries.items())

    def provisions(self) -> dict[str, str]:
        return merged_provisions(self.chain)

    def wording(self) -> dict[str, Localized]:
        """The MOC's own words by name (``pack.wording``) along the extends chain; later packs override earlier ones."""
        merged: dict[str, Localized] = {}
        for source in self.chain:
            merged.update(source.spec.pack.wording)
        return merged

    def rules_for(self, kind: str) -> tuple[ResolvedRule, ...]:
        return tuple(r for r in self.rules if r.rule.spec.applies_to == kind)

    def test_registry_entries(self) -> dict[str, list[Entry]]:
        """Registry entries for rule tests; a pack's own entries replace those of what it extends, by kind."""
        merged: dict[str, list[Entry]] = {}
        for source in self.chain:
            for kind, entries in source.spec.test_registries.items():
                merged[kind] = entries
        return merged

    def check_country_fields(self, dossier: Any, source: str) -> None:
        """Raise :class:`InputError` when ``country_fields`` holds what this pack does not declare, or a wrong type.

        The generic dossier schema only knows that country fields are scalars;
        their names and types come from the pack, so they are checked here,
        before any rule reads them (a string where a number is declared would
        otherwise make comparisons meaningless).
        """
        values = dossier.get("country_fields")
        if values is None:
            return
        validators = self.__dict__.setdefault("_country_validators", {})
        kind = dossier["kind"]
        if kind not in validators:
            import jsonschema_rs  # only dossiers that carry country fields need it

            validators[kind] = jsonschema_rs.validator_for(country_fields_schema(self.meta, kind), validate_formats=True)
        declared = self.meta.fields_for(kind)
        whose = label(kind, "ja" if language() == "ja" else "en", "kind")
        problems = [
            Problem(
                source,
                _("{problem} (country fields of {kind} dossiers are declared by pack {pack})", problem=message, kind=whose, pack=self.id),
                kind="schema",
                pointer=at,
            )
            for error in validators[kind].iter_errors(values)
            for at, message in _country_field_problems(error, declared)
        ]
        if problems:
            raise InputError(problems)

    def test_base(self, kind: str) -> dict[str, Any] | None:
        base = self.source.spec.test_base
        return getattr(base, kind) if base else None


@dataclass(frozen=True)
class PackSet:
    """Every pack in a directory, by id and by country."""

    sources: dict[str, PackSource]
    packs: dict[str, Pack]

    def __post_init__(self) -> None:
        for pack in self.packs.values():
            declare_labels(pack.meta)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled from the compiled-pack cache: the labels its packs declare are made known again."""
        self.__dict__.update(state)
        self.__post_init__()

    def for_country(self, country: str) -> Pack | None:
        for pack in self.packs.values():
            if pack.country == country:
                return pack
        return None

    @property
    def countries(self) -> list[str]:
        """The partner countries that can be screened: one per concrete pack present."""
        return sorted(pack.country for pack in self.packs.values())

    def registry_keepers(self) -> dict[str, list[str]]:
        """Registry kind -> who keeps a list of that kind that some rule consults (a country, or JP)."""
        out: dict[str, set[str]] = {}
        for pack in self.packs.values():
            for resolved in pack.rules:
                for kind in resolved.rule.registries:
                    out.setdefault(kind, set()).add(keeper(pack.country, kind))
        return {kind: sorted(countries) for kind, countries in sorted(out.items())}

    def rule(self, rule_id: str) -> CompiledRule | None:
        for source in self.sources.values():
            for rule in source.rules:
                if rule.id == rule_id:
                    return rule
        return None


# --------------------------------------------------------------------------- loading


def _scope_for(kind: str, meta: PackMeta) -> cond.Scope:
    """What the rules of a pack can read: the dossier model plus the country fields the pack declares."""
    return cond.Scope(cond.with_country_fields(cond.type_of_model(KINDS[kind]), declared_types(meta, kind)))


def declared_types(meta: PackMeta, kind: str) -> dict[str, cond.FieldType]:
    """The static types of the country fields a pack declares for one kind of dossier (a choice field's labels
    are its enumeration, :func:`labels.declared_enum`, so messages quote a value by its label)."""
    out = {}
    for name, declared in meta.fields_for(kind).items():
        base = cond.DECLARED_TYPES[declared.type]
        if declared.choices:
            base = cond.FieldType(base.kind, choices=frozenset(declared.values), vocabulary=declared_enum(meta.country or "", kind, name))
        out[name] = base
    return out


def declare_labels(meta: PackMeta) -> None:
    """Make what a concrete pack names known to :mod:`dossier_rules.labels`: its country, its currency, and its country fields' choices."""
    if meta.country is None:
        return
    if meta.country_name is not None:
        declare("country", {meta.country: (meta.country_name.ja, meta.country_name.en)})
    if meta.currency is not None:
        declare_currency(meta.country, meta.currency)
    for kind, fields in meta.dossier_fields.items():
        for name, declared in fields.items():
            if declared.labels():
                declare(declared_enum(meta.country, kind, name), declared.labels())


def _country_field_problems(error: Any, declared: dict[str, DeclaredField]) -> list[tuple[str, str]]:
    """(pointer, message) for one schema error of ``country_fields``, in the words core fields get (did you mean ...)."""
    import jsonschema_rs  # only dossiers that carry country fields need it

    at = "/country_fields" + "".join(f"/{p}" for p in error.instance_path)
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        return [(f"{at}/{name}", input_errors.unknown_field(name, declared)) for name in kind.unexpected]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Enum):
        return [(at, input_errors.choice_message(error.instance, [str(v) for v in kind.options]))]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Format):
        return [(at, input_errors.pydantic_message({"type": "date_parsing", "input": error.instance, "loc": ()}))]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Type):
        wanted = {"boolean": "bool_type", "number": "float_type", "string": "string_type", "object": "dict_type"}.get(str(kind.types[0]))
        if wanted:
            return [(at, input_errors.pydantic_message({"type": wanted, "input": error.instance, "loc": ()}))]
    return [(at, str(error.message))]


def country_fields_schema(meta: PackMeta, kind: str) -> dict[str, Any]:
    """JSON Schema of ``country_fields`` for one country and kind: its declared fields, nothing else, in the pack's order."""
    json_types = {"string": {"type": "string"}, "number": {"type": "number"}, "bool": {"type": "boolean"}, "date": {"type": "string", "format": "date"}}
    properties = {}
    for name, declared in meta.fields_for(kind).items():
        prop: dict[str, Any] = {**json_types[declared.type], "title": declared.title.en, "description": declared.title.ja}
        if declared.choices:
            prop["enum"] = declared.values
        properties[name] = prop
    return {"type": "object", "properties": properties, "additionalProperties": False}


_EMPTY_SCOPE = cond.Scope(cond.FieldType("object"))
"""Effect sentences read no dossier field: they are checked in a scope with none."""


def _effect(spec: RuleSpec, wording: dict[str, Localized]) -> dict[str, str] | None:
    """The rule's effect sentence in a concrete pack's wording, as it ends the rule's messages (checked at load: no fields)."""
    if spec.effect is None:
        return None
    return {lang: "".join(map(str, compile_template(effect_text(spec, lang), _EMPTY_SCOPE, None).with_wording(wording, lang).parts)) for lang in LANGS}


def effect_text(spec: RuleSpec, lang: str) -> str:
    """The rule's effect sentence as appended to its message ('' when it has none): see :attr:`RuleSpec.effect`."""
    if spec.effect is None:
        return ""
    text: str = getattr(spec.effect, lang)
    return text if lang == "ja" else " " + text


def _compile_rule(spec: RuleSpec, raw: Any, meta: PackMeta, source: str) -> tuple[CompiledRule | None, list[Problem]]:
    line = getattr(raw, "line", None)
    problems: list[Problem] = []

    def problem(message: str, at: int | None) -> None:
        problems.append(Problem(source, message, kind="pack", line=at or line, rule=spec.id))

    pack_id = meta.id
    if not spec.id.startswith(pack_id + "."):
        problem(f"rule id must start with the pack id '{pack_id}.'", line_of(raw, ["id"]))
    scope = _scope_for(spec.applies_to, meta)
    for_each = None
    try:
        if spec.for_each:
            for_each = cond.resolve(spec.for_each.in_, scope, line_of(raw, ["for_each"]))
            if for_each.type.kind != "list" or for_each.type.item is None or for_each.start != cond.ROOT:
                raise cond.ConditionError(
                    f"for_each needs a list field of the dossier, '{for_each.text}' is a {for_each.type.describe()}", line_of(raw, ["for_each"])
                )
            scope = scope.bind(spec.for_each.as_, for_each.type.item, line_of(raw, ["for_each", "as"]))
        condition = cond.parse(raw["when"], scope, line_of(raw, ["when"]))
    except cond.ConditionError as exc:
        problem(exc.message, exc.line)
        return None, problems
    evidence = []
    for i, text in enumerate(spec.evidence):
        try:
            evidence.append(cond.resolve(text, scope, line_of(raw, ["evidence", i])))
        except cond.ConditionError as exc:
            problem(f"evidence: {exc.message}", exc.line)
    subject = None
    if spec.subject is not None:
        try:
            subject = cond.resolve(spec.subject, scope, line_of(raw, ["subject"]))
            if set(subject.type.fields) != set(cond.type_of_model(Party).fields):
                raise cond.ConditionError(
                    f"subject must name a party (like fee.payee), '{subject.text}' is a {subject.type.describe()}", line_of(raw, ["subject"])
                )
        except cond.ConditionError as exc:
            problem(exc.message, exc.line)
    if spec.share and spec.share.act != "test_fraud" and spec.applies_to == "candidate" and spec.subject is None:
        problem("a shared finding about an intermediary needs 'subject': the path of the party the partner must act on", line_of(raw, ["share"]))
    messages = {}
    for lang in LANGS:
        try:
            messages[lang] = compile_template(getattr(spec.message, lang) + effect_text(spec, lang), scope, line_of(raw, ["message", lang]))
        except cond.ConditionError as exc:
            problem(f"message.{lang}: {exc.message}", exc.line)
    for lang in LANGS:
        try:
            compile_template(effect_text(spec, lang), _EMPTY_SCOPE, line_of(raw, ["effect", lang]))
        except cond.ConditionError:
            problem(f"effect.{lang}: an effect sentence quotes no dossier field (only {{@wording}}); put facts in the message", line_of(raw, ["effect", lang]))
    if (spec.severity == "block" or spec.share) and spec.effect is None:
        problem(
            "a block or shared rule needs 'effect': the sentence saying what the finding does under the MOC, "
            "left out of the message when the MOC is not in force",
            line_of(raw, ["message"]),
        )
    if spec.severity == "info" and spec.share:
        problem("an 'info' finding cannot be marked to share; use warn or block", line_of(raw, ["share"]))
    if spec.severity == "block" and spec.basis is None:
        problem(
            "a block rule needs 'basis': the article whose text makes the application unacceptable, and what it says; "
            "where the text asks for information to be shared or for a person to decide, use warn",
            line_of(raw, ["severity"]),
        )
    if spec.severity != "block" and spec.basis is not None:
        problem(f"'basis' is what makes a rule blocking; a {spec.severity} rule has none", line_of(raw, ["basis"]))
    if spec.basis is not None and spec.basis.article not in (spec.article, *spec.also):
        problem(
            f"basis.article '{spec.basis.article}' must be the rule's article or one of its 'also', so the finding cites it", line_of(raw, ["basis", "article"])
        )
    kinds = {t.expect for t in spec.tests}
    if kinds != {"fire", "pass"}:
        lacking = " and ".join(sorted({"fire", "pass"} - kinds))
        problem(f"every rule needs test cases that fire and that pass; this one has none that {lacking}", line_of(raw, ["tests"]))
    if problems:
        return None, problems
    test_lines = tuple(line_of(raw, ["tests", i]) for i in range(len(spec.tests)))
    compiled = CompiledRule(
        spec,
        pack_id,
        source,
        line,
        condition,
        for_each,
        tuple(evidence),
        messages,
        test_lines,
        frozenset(cond.registries_used(condition)),
        subject,
        line_of(raw, ["article"]),
    )
    return compiled, []


def load_pack_file(path: FsPath) -> PackSource:
    """Load and compile one pack file; raise :class:`InputError` with every problem found."""
    source = str(path)
    data, raw = load_yaml(path)
    if not isinstance(data, dict):
        raise InputError([Problem(source, _("a pack file must be a YAML mapping with 'pack' and 'rules'"), kind="pack", line=1)])
    errors = sorted(_schema_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise InputError(_schema_problem(source, data, e) for e in errors)
    spec = PackFile.model_validate(data)
    problems: list[Problem] = []
    rules: list[CompiledRule] = []
    seen: dict[str, int | None] = {}
    for i, rule_spec in enumerate(spec.rules):
        raw_rule = data["rules"][i]
        if rule_spec.id in seen:
            problems.append(
                Problem(source, _("duplicate rule id (first at line {line})", line=seen[rule_spec.id]), kind="pack", line=raw_rule.line, rule=rule_spec.id)
            )
            continue
        seen[rule_spec.id] = raw_rule.line
        compiled, found = _compile_rule(rule_spec, raw_rule, spec.pack, source)
        problems.extend(found)
        if compiled:
            rules.append(compiled)
    problems.extend(_check_meta(spec, data, source))
    if problems:
        raise InputError(problems)
    return PackSource(spec, path, hashlib.sha256(raw).hexdigest(), tuple(rules), data)


def _schema_problem(source: str, data: Any, error: jsonschema.ValidationError) -> Problem:
    """A located, specific message: for anyOf/oneOf, report the alternative that came closest."""
    while error.context:
        branches = [e for e in error.context if e.validator != "type"] or list(error.context)
        error = max(branches, key=lambda e: len(e.absolute_path))
    path = list(error.absolute_path)
    message = error.message
    if error.validator == "additionalProperties":
        message = _("{keys}: not a known key here", keys=error.message.split(" were unexpected")[0].split(" was unexpected")[0])
    elif error.validator == "required":
        message = f"{error.message}"
    return Problem(source, message, kind="pack", pointer=cond_pointer(path), line=line_of(data, path))


def cond_pointer(path: list[Any]) -> str:
    return "".join("/" + str(p) for p in path)


def _check_meta(spec: PackFile, data: Any, source: str) -> list[Problem]:
    meta = spec.pack
    problems = []
    if not meta.abstract:
        for key in ("country", "moc"):
            if getattr(meta, key) is None:
                problems.append(
                    Problem(source, _("a concrete pack needs pack.{key} (or set abstract: true)", key=key), kind="pack", line=line_of(data, ["pack"]))
                )
        kinds = {r.applies_to for r in spec.rules}
        base = spec.test_base or TestBase()
        for kind in sorted(kinds):
            if getattr(base, kind) is None:
                problems.append(
                    Problem(source, _("test_base.{kind} is needed to run the tests of {kind} rules", kind=kind), kind="pack", line=line_of(data, ["test_base"]))
                )
    elif meta.country or meta.moc or meta.dossier_fields or meta.country_name or meta.currency:
        problems.append(
            Problem(
                source,
                _("an abstract pack has no country, country_name, currency, moc or dossier_fields; those belong to the packs that extend it"),
                kind="pack",
                line=line_of(data, ["pack"]),
            )
        )
    if meta.currency is not None and not is_currency(meta.currency):
        problems.append(
            Problem(
                source,
                _("{code} is not an ISO 4217 currency code CLDR knows; write the code fees are quoted in, such as USD", code=repr(meta.currency)),
                kind="pack",
                pointer="/pack/currency",
                line=line_of(data, ["pack", "currency"]),
            )
        )
    for kind, fields in meta.dossier_fields.items():
        for name, declared in fields.items():
            if isinstance(declared.choices, list):
                problems.append(
                    Problem(
                        source,
                        f"the choices of country field '{name}' need their labels in both languages, so forms and messages "
                        f"never show a raw code: choices: {{{declared.choices[0]}: {{ja: ..., en: ...}}, ...}}",
                        kind="pack",
                        line=line_of(data, ["pack", "dossier_fields", kind, name, "choices"]),
                    )
                )
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                problems.append(
                    Problem(
                        source,
                        _("a country field name is lower-case letters, digits and '_', got {name}", name=repr(name)),
                        kind="pack",
                        line=line_of(data, ["pack", "dossier_fields", kind, name]),
                    )
                )
    return problems


def _resolve_article(template: str, provisions: dict[str, str], country: str) -> str:
    def sub(match: re.Match[str]) -> str:
        return provisions[match.group(1)]

    return f"MOC-{country} " + _PLACEHOLDER.sub(sub, template)


def merged_provisions(chain: list[PackSource] | tuple[PackSource, ...]) -> dict[str, str]:
    """Article numbers by name along an extends chain; later packs override earlier ones."""
    merged: dict[str, str] = {}
    for source in chain:
        merged.update(source.spec.pack.provisions)
    return merged


def _link(source: PackSource, sources: dict[str, PackSource]) -> tuple[Pack | None, list[Problem]]:
    """Resolve ``extends`` for one concrete pack and cite every rule in its MOC's numbering."""
    chain: list[PackSource] = []
    problems: list[Problem] = []
    path = str(source.path)

    def visit(node: PackSource, trail: tuple[str, ...]) -> None:
        for parent_id in node.spec.pack.extends:
            if parent_id in trail:
                problems.append(
                    Problem(
                        path,
                        _("extends forms a cycle: {cycle}", cycle=" -> ".join(trail + (parent_id,))),
                        kind="pack",
                        line=line_of(node.data, ["pack", "extends"]),
                    )
                )
                continue
            parent = sources.get(parent_id)
            if parent is None:
                problems.append(
                    Problem(
                        str(node.path),
                        _("extends unknown pack '{pack}'; known: {known}", pack=parent_id, known=", ".join(sorted(sources))),
                        kind="pack",
                        line=line_of(node.data, ["pack", "extends"]),
                    )
                )
                continue
            if parent not in chain:
                visit(parent, trail + (parent_id,))
                chain.append(parent)

    visit(source, (source.id,))
    chain.append(source)
    provisions = merged_provisions(chain)
    wording = Pack(source, tuple(chain), ()).wording()
    country = source.spec.pack.country or ""
    rules: list[ResolvedRule] = []
    seen: dict[str, str] = {}
    for node in chain:
        for rule in node.rules:
            if rule.id in seen:
                problems.append(Problem(rule.source, _("rule id also defined in pack '{pack}'", pack=seen[rule.id]), kind="pack", line=rule.line, rule=rule.id))
                continue
            seen[rule.id] = node.id
            missing = sorted({m for t in (rule.spec.article, *rule.spec.also) for m in _PLACEHOLDER.findall(t)} - provisions.keys())
            if missing:
                problems.append(
                    Problem(
                        rule.source,
                        _(
                            "article uses {names}, which pack '{pack}' ({path}) does not define under pack.provisions",
                            names=", ".join("{" + m + "}" for m in missing),
                            pack=source.id,
                            path=path,
                        ),
                        kind="pack",
                        line=rule.article_line,
                        rule=rule.id,
                    )
                )
                continue
            unknown = sorted(set().union(*(t.wordings() for t in rule.messages.values())) - wording.keys())
            if unknown:
                problems.append(
                    Problem(
                        rule.source,
                        f"message uses {', '.join('{@' + w + '}' for w in unknown)}, which pack '{source.id}' ({path}) does not define under pack.wording",
                        kind="pack",
                        line=rule.line,
                        rule=rule.id,
                    )
                )
                continue
            article = _resolve_article(rule.spec.article, provisions, country)
            also = tuple(_resolve_article(a, provisions, country) for a in rule.spec.also)
            messages = {lang: t.with_wording(wording, lang) for lang, t in rule.messages.items()}
            rules.append(ResolvedRule(rule, article, also, _basis(rule.spec, provisions, country), messages, _effect(rule.spec, wording)))
    problems.extend(_check_inventory(source, chain, provisions, rules))
    problems.extend(_check_basis(source, chain, provisions, rules))
    if problems:
        return None, problems
    return Pack(source, tuple(chain), tuple(rules)), []


def _check_inventory(source: PackSource, chain: list[PackSource], provisions: dict[str, str], rules: list[ResolvedRule]) -> list[Problem]:
    """Every article a rule cites must be in the pack's list of provisions, so the matrix is complete."""
    problems: list[Problem] = []
    country = source.spec.pack.country or ""
    listed: set[str] = set()
    for node in chain:
        for i, entry in enumerate(node.spec.pack.articles):
            missing = sorted(set(_PLACEHOLDER.findall(entry.article)) - provisions.keys())
            if missing:
                problems.append(
                    Problem(
                        str(node.path),
                        _("article list uses {names}, which pack '{pack}' does not define", names=", ".join("{" + m + "}" for m in missing), pack=source.id),
                        kind="pack",
                        line=line_of(node.data, ["pack", "articles", i]),
                    )
                )
                continue
            listed.add(_resolve_article(entry.article, provisions, country))
    if not listed:
        return problems
    for resolved in rules:
        for article in (resolved.article, *resolved.also):
            if article not in listed:
                rule = resolved.rule
                problems.append(
                    Problem(
                        rule.source,
                        _("cites {article}, which is not in the article list of pack '{pack}' (pack.articles)", article=article, pack=source.id),
                        kind="pack",
                        line=rule.line,
                        rule=rule.id,
                    )
                )
    return problems


def _check_basis(source: PackSource, chain: list[PackSource], provisions: dict[str, str], rules: list[ResolvedRule]) -> list[Problem]:
    """A block rests on text that makes the application unacceptable: a provision listed with ``acceptance``, or a
    named Japanese instrument (``basis.domestic``). A MOC article that only asks for information to be shared is neither."""
    country = source.spec.pack.country or ""
    accepting = {
        _resolve_article(entry.article, provisions, country)
        for node in chain
        for entry in node.spec.pack.articles
        if entry.acceptance is not None and not set(_PLACEHOLDER.findall(entry.article)) - provisions.keys()
    }
    problems: list[Problem] = []
    for resolved in rules:
        basis = resolved.rule.spec.basis
        if basis is None or basis.domestic is not None:
            continue
        if _resolve_article(basis.article, provisions, country) not in accepting:
            rule = resolved.rule
            problems.append(
                Problem(
                    rule.source,
                    f"basis cites {_resolve_article(basis.article, provisions, country)}, which pack '{source.id}' does not list as making an "
                    "application unacceptable (pack.articles: acceptance); cite such a provision, or name the Japanese instrument "
                    "and article under basis.domestic",
                    kind="pack",
                    line=rule.line,
                    rule=rule.id,
                )
            )
    return problems


def _basis(spec: RuleSpec, provisions: dict[str, str], country: str) -> dict[str, Any] | None:
    """A block rule's basis as its findings show it: the MOC article in this pack's numbering, its text, any domestic instrument."""
    basis = spec.basis
    if basis is None:
        return None
    return {
        "article": _resolve_article(basis.article, provisions, country),
        "text": basis.text.model_dump(),
        "domestic": basis.domestic.model_dump() if basis.domestic is not None else None,
    }


def pack_files(directory: FsPath) -> list[FsPath]:
    return sorted(p for p in directory.glob("*.yaml") if p.is_file())


def load_packs(directory: FsPath) -> PackSet:
    """Load every pack in a directory; raise :class:`InputError` listing every problem."""
    if not directory.is_dir():
        raise InputError([Problem(str(directory), _("pack directory not found"), kind="not_found")])
    files = pack_files(directory)
    if not files:
        raise InputError([Problem(str(directory), _("no *.yaml pack files in this directory"), kind="not_found")])
    return link_sources(files)


def link_sources(files: list[FsPath]) -> PackSet:
    problems: list[Problem] = []
    sources: dict[str, PackSource] = {}
    broken: set[str] = set()
    for path in files:
        try:
            loaded = load_pack_file(path)
        except InputError as exc:
            problems.extend(exc.problems)
            broken.add(path.stem)
            continue
        if loaded.id in sources:
            problems.append(
                Problem(
                    str(path),
                    _("pack id '{pack}' is also used by {path}", pack=loaded.id, path=sources[loaded.id].path),
                    kind="pack",
                    line=line_of(loaded.data, ["pack", "id"]),
                )
            )
            continue
        sources[loaded.id] = loaded
    packs: dict[str, Pack] = {}
    countries: dict[str, str] = {}
    for source in sources.values():
        if source.spec.pack.abstract:
            continue
        if broken & set(source.spec.pack.extends):
            failed = ", ".join(sorted(broken & set(source.spec.pack.extends)))
            problems.append(
                Problem(
                    str(source.path),
                    _("not linked: it extends {failed}, which failed to load (see above)", failed=failed),
                    kind="pack",
                    line=line_of(source.data, ["pack", "extends"]),
                )
            )
            continue
        pack, found = _link(source, sources)
        problems.extend(found)
        if pack is None:
            continue
        if pack.country in countries:
            problems.append(
                Problem(
                    str(source.path),
                    _("country {country} already has pack '{pack}'", country=pack.country, pack=countries[pack.country]),
                    kind="pack",
                    line=line_of(source.data, ["pack", "country"]),
                )
            )
            continue
        countries[pack.country] = pack.id
        packs[pack.id] = pack
    if problems:
        raise InputError(problems)
    return PackSet(sources, packs)


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply a JSON merge patch (RFC 7386): ``null`` removes a key, mappings merge, the rest replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
