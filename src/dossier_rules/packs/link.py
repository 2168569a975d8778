"""Linking: a concrete pack's ``extends`` chain resolved, each rule cited in its MOC's numbering and checked against its inventory.

Each rule's article template (``{information_sharing}(e)``) becomes the
canonical citation of the concrete pack's own MOC (``MOC-KH 4(1)(e)``); a
block rule's basis must cite an article the pack lists as making an act a
reason to refuse.
"""

from __future__ import annotations

from typing import Any

from ..locale import _
from ..located_yaml import line_of
from ..problems import Problem
from .format import RuleSpec
from .pack import Pack, PackSource, ResolvedRule, merged_provisions, resolve_article
from .templates import PLACEHOLDER, effect_sentences


def link_pack(source: PackSource, sources: dict[str, PackSource]) -> tuple[Pack | None, list[Problem]]:
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
            missing = sorted({m for t in (rule.spec.article, *rule.spec.also) for m in PLACEHOLDER.findall(t)} - provisions.keys())
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
            article = resolve_article(rule.spec.article, provisions, country)
            also = tuple(resolve_article(a, provisions, country) for a in rule.spec.also)
            messages = {lang: t.with_wording(wording, lang) for lang, t in rule.messages.items()}
            rules.append(ResolvedRule(rule, article, also, _basis(rule.spec, provisions, country), messages, effect_sentences(rule.spec, wording)))
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
            missing = sorted(set(PLACEHOLDER.findall(entry.article)) - provisions.keys())
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
            listed.add(resolve_article(entry.article, provisions, country))
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
        resolve_article(entry.article, provisions, country)
        for node in chain
        for entry in node.spec.pack.articles
        if entry.acceptance is not None and not set(PLACEHOLDER.findall(entry.article)) - provisions.keys()
    }
    problems: list[Problem] = []
    for resolved in rules:
        basis = resolved.rule.spec.basis
        if basis is None or basis.domestic is not None:
            continue
        if resolve_article(basis.article, provisions, country) not in accepting:
            rule = resolved.rule
            problems.append(
                Problem(
                    rule.source,
                    f"basis cites {resolve_article(basis.article, provisions, country)}, which pack '{source.id}' does not list as making an "
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
        "article": resolve_article(basis.article, provisions, country),
        "text": basis.text.model_dump(),
        "domestic": basis.domestic.model_dump() if basis.domestic is not None else None,
    }
