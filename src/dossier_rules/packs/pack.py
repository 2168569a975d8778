"""Loaded packs: a rule compiled and resolved for a concrete pack, ``Pack`` (one country's MOC with what it extends) and ``PackSet``.

What the engine, the code generator and the reports work with once loading is
done: no YAML, no schema validation; the country-field checks a dossier gets
from its pack, and articles cited in the pack's own MOC numbering.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path as FsPath
from typing import Any

from .. import conditions as cond
from .. import input_errors
from ..labels import cldr_name, declare, declare_currency, declared_enum, label
from ..locale import _, language
from ..problems import InputError, Problem
from ..registries import Entry, keeper
from .format import ArticleEntry, DeclaredField, Lang, Localized, Moc, PackFile, PackMeta, RuleSpec
from .templates import PLACEHOLDER, Template


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
                entries[resolve_article(entry.article, provisions, self.country)] = entry
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
        if "country_names" not in self.__dict__:  # loaded from the YAML: CLDR's names, kept for the cache
            object.__setattr__(self, "country_names", cldr_country_names(self.packs.values()))
        declare("country", self.__dict__["country_names"])

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled from the compiled-pack cache: the labels its packs declare are made known again, CLDR's names of
        their countries among them, so a cached start names its countries without loading Babel."""
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


def cldr_country_names(packs: Iterable[Pack]) -> dict[str, tuple[str, str]]:
    """CLDR's names (ja, en) of the countries of packs that declare none of their own."""
    names = {}
    for pack in packs:
        country = pack.meta.country
        if country is not None and pack.meta.country_name is None:
            ja, en = cldr_name(country, "ja"), cldr_name(country, "en")
            if ja and en:
                names[country] = (ja, en)
    return names


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


def resolve_article(template: str, provisions: dict[str, str], country: str) -> str:
    def sub(match: re.Match[str]) -> str:
        return provisions[match.group(1)]

    return f"MOC-{country} " + PLACEHOLDER.sub(sub, template)


def merged_provisions(chain: list[PackSource] | tuple[PackSource, ...]) -> dict[str, str]:
    """Article numbers by name along an extends chain; later packs override earlier ones."""
    merged: dict[str, str] = {}
    for source in chain:
        merged.update(source.spec.pack.provisions)
    return merged
