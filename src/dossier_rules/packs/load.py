"""Loading packs: YAML with line numbers, the pack schema, every rule compiled, a directory linked; errors located.

Loading goes: read YAML safely with line numbers -> validate against
``schemas/pack.schema.json`` -> compile every rule against the dossier schema
(:mod:`.templates` for its messages) -> link each concrete pack's ``extends``
(:mod:`.link`). Every problem found is raised together as one
:class:`~dossier_rules.problems.InputError`. ``merge_patch`` (RFC 7386) is how a
rule's test case patches its pack's ``test_base``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any

from .. import conditions as cond
from ..labels import declared_enum, is_currency
from ..locale import _
from ..located_yaml import line_of, load_yaml
from ..model import KINDS, Party
from ..problems import InputError, Problem

if TYPE_CHECKING:
    import jsonschema

from .format import LANGS, PackFile, PackMeta, RuleSpec, TestBase, schema_validator
from .link import link_pack
from .pack import CompiledRule, Pack, PackSet, PackSource
from .templates import EMPTY_SCOPE, compile_template, effect_text


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
            compile_template(effect_text(spec, lang), EMPTY_SCOPE, line_of(raw, ["effect", lang]))
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
    errors = sorted(schema_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
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
        pack, found = link_pack(source, sources)
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
