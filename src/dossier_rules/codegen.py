"""Packs compiled to Python source: one function per pack and dossier kind.

The closure interpreter of :mod:`dossier_rules.conditions` pays a Python call
per node and per path step, and the engine pays more per finding (templates
walked, paths read again for evidence). Here each pack's rules for one kind of
dossier become one generated function that

* reads every field path its conditions use once, into a local, at the top
  (dossier paths) or at the top of each item (``for_each`` paths);
* walks each ``for_each`` list once for all the rules over it;
* writes conditions inline as Python expressions;
* builds a finding from the values already read: messages are string
  concatenations, evidence pointers are literals, item pointers are built
  once per finding.

What may reach the source, and how (the generated text is the audit surface,
``dossier-rules packs compile PACK --show``):

* **literals** only as ``repr()`` of a JSON scalar (str, int, finite float,
  bool, None), each checked to read back as the same value
  (:func:`literal`); dates and sets are built from such literals once, at
  module level;
* **names** only the generator's own: locals it numbers (``v3``, ``q0``),
  the function arguments, and the fixed runtime helpers of :data:`RUNTIME`;
  nothing from a pack's text is ever a name;
* **structure** only from the *checked* AST (:class:`~dossier_rules.conditions.Node`),
  never from the YAML.

The generated functions must find exactly what the interpreter finds, in the
same order, with the same messages and evidence; ``tests/test_codegen.py``
proves it on every pack test case, every sample and 10,000 generated
dossiers, and feeds hostile literals through every operator.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from types import CodeType
from typing import Any, assert_never

from dateutil.relativedelta import relativedelta

from . import conditions as cond
from .packs import Pack, PackSet, ResolvedRule, Template, enum_name, show_value

CODEGEN_VERSION = "6"
"""Part of every cache key: generated code from another version of this module is never reused."""

Screen = Callable[[dict[str, Any], date, Any, list[dict[str, Any]]], None]
"""``screen(dossier, as_of, registry_view, findings)``: append the findings of one pack's rules for one kind."""

KINDS = ("candidate", "broker")


class Unsupported(Exception):
    """A checked condition this generator cannot express; the interpreter then runs that pack."""


# --------------------------------------------------------------------------- runtime helpers


@lru_cache(maxsize=4096)
def _shift(day: date, years: int, months: int, days: int) -> date | None:
    """A date moved by an offset (as ``relativedelta`` does); cached, as offsets apply mostly to as-of dates.

    Beyond the calendar (before 0001-01-01, after 9999-12-31) there is no such date: ``None``, unknown, as
    in the interpreter.
    """
    try:
        return day + relativedelta(years=years, months=months, days=days)
    except (OverflowError, ValueError):
        return None


def broker_subject(dossier: dict[str, Any]) -> dict[str, Any]:
    """The broker a broker rule examined: the subject of a broker rule without ``subject``, for both evaluators.

    Its id is the broker's stable identifier (``broker_id``), so that every dossier about one broker, and every
    candidate dossier naming it, is grouped as one party; the dossier id stands in only when none is recorded.
    """
    fields = {
        "id": dossier.get("broker_id") or dossier["dossier_id"],
        "name": dossier["name"],
        "role": dossier.get("role"),
        "legal_form": dossier.get("legal_form"),
        "country": dossier.get("based_in"),
    }
    return {k: v for k, v in fields.items() if v is not None}


RUNTIME: dict[str, Any] = {
    "_date": cond.as_date,
    "_shift": _shift,
    "_show": show_value,
    "_broker_subject": broker_subject,
    "_among": cond.party_among,
    "_same_party": cond.same_party,
    "__builtins__": {"any": any, "all": all, "enumerate": enumerate, "str": str, "frozenset": frozenset, "len": len, "sum": sum, "min": min, "max": max},
}
"""Everything generated code can name besides its own locals and constants (no other builtins)."""


def literal(value: Any) -> str:
    """The source of a JSON scalar, by ``repr()``; anything else, or anything that does not read back, is refused."""
    if not (value is None or isinstance(value, (str, bool, int)) or (isinstance(value, float) and math.isfinite(value))):
        raise Unsupported(f"{type(value).__name__} {value!r} is not a JSON scalar")
    text = repr(value)
    back = ast.literal_eval(text)
    if type(back) is not type(value) or back != value:
        raise Unsupported(f"{value!r} does not read back from {text}")
    return text


# --------------------------------------------------------------------------- the source builder


class _Source:
    """Lines of generated code with indentation, module-level constants, and fresh local names."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, str] = {}
        self.counters: dict[str, int] = {}

    def fresh(self, prefix: str) -> str:
        n = self.counters.get(prefix, 0)
        self.counters[prefix] = n + 1
        return f"{prefix}{n}"

    def constant(self, expression: str) -> str:
        """A module-level name for an expression built from literals (deduplicated by its text)."""
        for name, text in self.constants.items():
            if text == expression:
                return name
        name = f"C{len(self.constants)}"
        self.constants[name] = expression
        return name


class _Reads:
    """Locals holding field values read from one base object (the dossier, or a ``for_each`` item).

    Each prefix of a path is read once: ``v0 = d.get('certificate')``, then
    ``v1 = None if v0 is None else v0.get('issue_date')``; a date path adds a
    converted local. ``parent`` lets a finding's branch reuse the values the
    conditions already read.
    """

    def __init__(self, src: _Source, base: str, lines: list[str], indent: str, parent: _Reads | None = None):
        self.src, self.base, self.lines, self.indent, self.parent = src, base, lines, indent, parent
        self.lazy_dates = parent is None
        """Conditions convert a date where they reach it (short-circuits skip it); a finding converts it once."""
        self.locals: dict[tuple[tuple[str, ...], bool], str] = {}

    def known(self, key: tuple[tuple[str, ...], bool]) -> str | None:
        if key in self.locals:
            return self.locals[key]
        return self.parent.known(key) if self.parent else None

    def value(self, names: tuple[str, ...], as_date: bool) -> str:
        key = (names, as_date)
        if (name := self.known(key)) is not None:
            return name
        if as_date:
            raw = self.value(names, False)
            name = self.src.fresh("v")
            self.lines.append(f"{self.indent}{name} = None if {raw} is None else _date({raw})")
        elif not names:
            return self.base
        else:
            prev = self.value(names[:-1], False)
            name = self.src.fresh("v")
            step = f"{prev}.get({literal(names[-1])})"
            self.lines.append(f"{self.indent}{name} = {step}" if len(names) == 1 else f"{self.indent}{name} = None if {prev} is None else {step}")
        self.locals[key] = name
        return name


@dataclass
class _Scope:
    """Where each start of a path lives while generating one expression."""

    reads: dict[str, _Reads]
    inline: dict[str, str] = field(default_factory=dict)

    def with_inline(self, name: str, var: str) -> _Scope:
        return _Scope(self.reads, {**self.inline, name: var})


# --------------------------------------------------------------------------- conditions


class _Conditions:
    """Checked condition nodes to Python expressions."""

    def __init__(self, src: _Source):
        self.src = src
        self.helpers: list[str] = []
        """Nested functions (one per aggregate) that the function being generated defines first."""

    def path(self, path: cond.Path, scope: _Scope, convert: bool = True) -> tuple[str, bool]:
        """An expression for the value of ``path``, and whether it is a plain name (safe to repeat).

        Paths from a ``some``/``every`` item are read inline (a comprehension
        holds no statements), repeating the prefix rather than binding a
        temporary, since the item may be what a comprehension iterates.
        """
        as_date = path.type.kind == "date" and convert
        if path.start in scope.inline:
            expr = scope.inline[path.start]
            for name in path.names:
                expr = f"(None if {expr} is None else {expr}.get({literal(name)}))"
            if as_date:
                expr = f"(None if {expr} is None else _date({expr}))"
            return expr, not path.names and not as_date
        reads = scope.reads.get(path.start)
        if reads is None:
            raise Unsupported(f"path {path.text} starts at an unknown name")
        if as_date and reads.lazy_dates:
            raw = reads.value(path.names, False)
            return f"(None if {raw} is None else _date({raw}))", False
        return reads.value(path.names, as_date), True

    def once(self, expr: str, simple: bool) -> tuple[str, str]:
        """(first use, later uses) of a value: a walrus temp when the expression is not a plain name."""
        if simple:
            return expr, expr
        temp = self.src.fresh("t")
        return f"({temp} := {expr})", temp

    def operand(self, operand: cond.Operand, scope: _Scope) -> tuple[str, bool]:
        if operand.path is not None:
            expr, simple = self.path(operand.path, scope)
        elif operand.var == "as_of":
            expr, simple = "as_of", True
        else:
            raise Unsupported(f"unknown variable {operand.var!r}")
        shift = operand.offset
        if shift is None:
            return expr, simple
        if relativedelta(years=shift.years, months=shift.months, days=shift.days) != shift:
            raise Unsupported(f"offset {operand.offset_text!r}")
        args = f"{literal(shift.years)}, {literal(shift.months)}, {literal(shift.days)}"
        if expr == "as_of":
            return f"_shift(as_of, {args})", False
        first, later = self.once(expr, simple)
        return f"(None if {first} is None else _shift({later}, {args}))", False

    def constant(self, value: Any) -> str:
        if isinstance(value, frozenset):
            items = sorted(self.constant(v) for v in value)
            return self.src.constant("frozenset((" + "".join(i + ", " for i in items) + "))")
        if isinstance(value, date):
            return self.src.constant(f"_date({literal(value.isoformat())})")
        return literal(value)

    def expr(self, node: cond.Node, scope: _Scope) -> str:
        match node:
            case cond.All():
                return "(" + " and ".join(self.expr(n, scope) for n in node.items) + ")"
            case cond.Any_():
                return "(" + " or ".join(self.expr(n, scope) for n in node.items) + ")"
            case cond.Not():
                return f"(not {self.expr(node.item, scope)})"
            case cond.Presence():
                value, _ = self.path(node.path, scope, convert=False)  # a date is present when its text is
                return f"({value} is {'not ' if node.present else ''}None)"
            case cond.Compare():
                return self.compare(node, scope)
            case cond.Lookup():
                return self.lookup(node, scope)
            case cond.Retrieved():
                return self.retrieved(node, scope)
            case cond.Among():
                helper = "_same_party" if node.one else "_among"
                return f"{helper}({self.path(node.path, scope)[0]}, {self.path(node.parties, scope)[0]})"
            case cond.Quantifier():
                items, _ = self.path(node.path, scope)
                var = self.src.fresh("q")
                inner = self.expr(node.where, scope.with_inline(node.name, var))
                word = "any" if node.kind == "some" else "all"
                return f"{word}({inner} for {var} in ({items} or ()))"
            case cond.AggregateCompare():
                return self.aggregate_compare(node, scope)
            case _:
                assert_never(node)

    def aggregate_compare(self, node: cond.AggregateCompare, scope: _Scope) -> str:
        """The aggregate as a call of its helper, compared as the interpreter does: unknown is never true."""
        items, _ = self.path(node.aggregate.path, scope)
        first, later = self.once(f"{self.aggregate(node.aggregate, scope)}({items})", False)
        op = _SYMBOL[node.op]
        if node.operand.is_constant:
            return f"({first} is not None and {later} {op} {self.constant(node.operand.constant)})"
        other_first, other_later = self.once(*self.operand(node.operand, scope))
        return f"({first} is not None and {other_first} is not None and {later} {op} {other_later})"

    def aggregate(self, node: cond.Aggregate, scope: _Scope) -> str:
        """A nested function computing ``node`` over a list: its value, or None when unknown (see conditions)."""
        name = self.src.fresh("a")
        var = self.src.fresh("q")
        inner = scope.with_inline(node.name, var) if node.name is not None else scope
        lines = [f"    def {name}(items):", "        if items is None:", "            return None", "        values = []", f"        for {var} in items:"]
        if node.where is not None:
            lines += [f"            if not {self.expr(node.where, inner)}:", "                continue"]
        if node.value is None:
            lines.append("            values.append(True)")
        else:
            value, _ = self.path(node.value, inner)
            unknown = "value is None"
            if node.unit is not None:
                unit, _ = self.path(node.unit, inner)
                unknown += f" or {unit} != {self.constant(node.unit_value)}"
            lines += [f"            value = {value}", f"            if {unknown}:", "                return None", "            values.append(value)"]
        func = node.func
        match func:
            case "count":
                lines.append("        return len(values)")
            case "sum":
                lines.append("        return sum(values)")
            case "min" | "max":
                lines += ["        if not values:", "            return None", f"        return {func}(values)"]
            case _:
                assert_never(func)
        self.helpers.extend(lines)
        return name

    def compare(self, node: cond.Compare, scope: _Scope) -> str:
        first, later = self.once(*self.path(node.path, scope))
        op = node.op
        match op:
            case "in" | "not_in":
                return self.membership(node, first, later, scope)
            case "eq" | "ne" | "lt" | "le" | "gt" | "ge":
                symbol = _SYMBOL[op]
            case _:
                assert_never(op)
        if node.operand.is_constant:
            const = self.constant(node.operand.constant)
            if op == "eq":
                return f"({first} == {const})"
            return f"({first} is not None and {later} {symbol} {const})"
        other_first, other_later = self.once(*self.operand(node.operand, scope))
        if other_first == "as_of":  # the evaluation date is always known
            return f"({first} is not None and {later} {symbol} as_of)"
        return f"({first} is not None and {other_first} is not None and {later} {symbol} {other_later})"

    def membership(self, node: cond.Compare, first: str, later: str, scope: _Scope) -> str:
        """``in`` and ``not_in``: ``not_in`` is false when the value or the list is unknown, ``in`` is false then."""
        negate = node.op == "not_in"
        if node.operand.is_constant:
            const = self.constant(node.operand.constant)
            return f"({first} is not None and {later} not in {const})" if negate else f"({first} in {const})"
        other_first, other_later = self.once(*self.operand(node.operand, scope))
        if negate:
            return f"({first} is not None and {other_first} is not None and {later} not in {other_later})"
        return f"({first} is not None and {later} in ({other_first} or ()))"

    def retrieved(self, node: cond.Retrieved, scope: _Scope) -> str:
        """The registry's retrieval date compared as the interpreter does: unknown (not loaded) is never true."""
        first, later = self.once(f"reg.retrieved_on({literal(node.kind)})", False)
        op = _SYMBOL[node.op]
        if node.operand.is_constant:
            return f"({first} is not None and {later} {op} {self.constant(node.operand.constant)})"
        other_first, other_later = self.once(*self.operand(node.operand, scope))
        return f"({first} is not None and {other_first} is not None and {later} {op} {other_later})"

    def lookup(self, node: cond.Lookup, scope: _Scope) -> str:
        first, later = self.once(*self.path(node.path, scope))
        kind, op = literal(node.kind), node.op
        match op:
            case "listed_in" | "not_listed_in" if node.on is not None:
                day_first, day_later = self.once(*self.path(node.on, scope))
                want = op == "listed_in"
                return f"({first} is not None and {day_first} is not None and reg.available({kind}) and reg.listed_on({kind}, {later}, {day_later}) is {want})"
            case "listed_in":
                return f"({first} is not None and reg.listed({kind}, {later}))"
            case "not_listed_in":
                return f"({first} is not None and reg.available({kind}) and not reg.listed({kind}, {later}))"
            case "never_listed_in":
                return f"({first} is not None and reg.available({kind}) and not reg.ever_listed({kind}, {later}))"
            case "revoked_in" if node.before is not None:
                day_first, day_later = self.once(*self.path(node.before, scope))
                return f"({first} is not None and {day_first} is not None and reg.revoked_before({kind}, {later}, {day_later}))"
            case "revoked_in":
                return f"({first} is not None and reg.revoked({kind}, {later}))"
            case "listed_under_other_name":
                assert node.name is not None
                name_first, name_later = self.once(*self.path(node.name, scope))
                return f"({first} is not None and {name_first} is not None and reg.listed_under_other_name({kind}, {later}, {name_later}))"
            case _:
                assert_never(op)


_SYMBOL: dict[cond.OrderingOp, str] = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_RULE_ID = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$")


# --------------------------------------------------------------------------- rules and findings


@dataclass(frozen=True)
class Generated:
    """One pack's generated module: its source, and the rules it covers (their finding heads, in order)."""

    pack_id: str
    source: str
    rules: tuple[ResolvedRule, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()

    def load(self, heads: Iterable[dict[str, Any]]) -> dict[str, Screen]:
        """Compile the source and return its function per dossier kind (see :func:`screens`)."""
        return screens(compile(self.source, f"<pack {self.pack_id}>", "exec"), heads)


def screens(code: CodeType, heads: Iterable[dict[str, Any]]) -> dict[str, Screen]:
    """Run a compiled pack module and return its function per dossier kind.

    ``heads`` are the static part of each rule's findings, in the order of the
    pack's rules (the engine builds them, so both evaluators share them).
    """
    namespace: dict[str, Any] = {**RUNTIME, "H": tuple(heads)}
    exec(code, namespace)  # generated from the checked AST only (see the module's docstring)
    return {kind: namespace[f"screen_{kind}"] for kind in KINDS}


_CODES: dict[str, CodeType] = {}
"""Compiled pack modules in this process, by :func:`pack_key`."""


def pack_key(pack: Pack) -> str:
    """What a pack's generated code depends on in the pack: its files (by SHA-256) and the rules it applies."""
    parts = [CODEGEN_VERSION, pack.id, [(s.id, s.sha256) for s in pack.chain], [r.rule.id for r in pack.rules]]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def code_for(pack: Pack) -> CodeType:
    """The pack's compiled module: generated and compiled once per pack key in a process (or read from the cache)."""
    key = pack_key(pack)
    code = _CODES.get(key)
    if code is None:
        code = _CODES[key] = compile(generate(pack).source, f"<pack {pack.id}>", "exec")
    return code


def remember(codes: dict[str, CodeType]) -> None:
    """Compiled modules read from the compiled-pack cache (:mod:`dossier_rules.pack_cache`), which checked them."""
    _CODES.update(codes)


def generate(pack: Pack, fired_only: bool = False) -> Generated:
    """The generated module of one concrete pack: ``screen_candidate`` and ``screen_broker``.

    ``fired_only`` appends ``(rule index, item index or None)`` instead of
    findings: the conditions alone, as the benchmarks compare them with peers.
    """
    src = _Source()
    rules = pack.rules
    head_index = {id(r): i for i, r in enumerate(rules)}
    body: list[str] = []
    for kind in KINDS:
        body.extend(_function(src, kind, [r for r in rules if r.rule.spec.applies_to == kind], head_index, fired_only))
        body.append("")
    header = [
        f"# generated from pack {literal(pack.id)} by dossier_rules.codegen {CODEGEN_VERSION}",
        "# sources: " + ", ".join(f"{literal(s.id)} sha256 {literal(s.sha256)}" for s in pack.chain),
        "",
    ]
    constants = [f"{name} = {text}" for name, text in src.constants.items()]
    source = "\n".join(header + constants + ([""] if constants else []) + body)
    return Generated(pack.id, source, rules)


Condition = Callable[[dict[str, Any], date, Any], bool]
"""``condition(dossier, as_of, registry_view)``: one checked condition as generated code, alone."""


def condition_source(node: cond.Node) -> str:
    """The generated module of one condition over the dossier: ``condition(d, as_of, reg)``.

    The same expressions as in a pack's module, without rules or findings: what
    the conformance table (``tests/conformance/conditions.yaml``) runs beside the
    interpreter and Rete.
    """
    src = _Source()
    top: list[str] = []
    code = _Conditions(src)
    test = code.expr(node, _Scope({cond.ROOT: _Reads(src, "d", top, "    ")}))
    constants = [f"{name} = {text}" for name, text in src.constants.items()]
    return "\n".join([*constants, "def condition(d, as_of, reg):", *code.helpers, *top, f"    return bool({test})", ""])


def compile_condition(node: cond.Node) -> Condition:
    """One condition compiled by this generator (see :func:`condition_source`)."""
    namespace: dict[str, Any] = {**RUNTIME, "__builtins__": {**RUNTIME["__builtins__"], "bool": bool}}
    exec(compile(condition_source(node), "<condition>", "exec"), namespace)  # generated from the checked AST only
    function: Condition = namespace["condition"]
    return function


def select(packset: PackSet, target: str | None) -> list[Pack]:
    """The packs to compile for ``packs compile``: all, one, or one rule alone in the first pack applying it.

    An abstract pack's id selects the packs that extend it, restricted to its
    own rules. Raises :class:`KeyError` when ``target`` names nothing.
    """
    if target is None:
        return list(packset.packs.values())
    if target in packset.packs:
        return [packset.packs[target]]
    if target in packset.sources:
        own = {id(r) for r in packset.sources[target].rules}
        return [replace(p, rules=tuple(r for r in p.rules if id(r.rule) in own)) for p in packset.packs.values() if any(id(r.rule) in own for r in p.rules)]
    for pack in packset.packs.values():
        for resolved in pack.rules:
            if resolved.rule.id == target:
                return [replace(pack, rules=(resolved,))]
    raise KeyError(target)


def _groups(rules: list[ResolvedRule]) -> list[tuple[cond.Path | None, list[ResolvedRule]]]:
    """Rules grouped by the list they iterate, in first-appearance order (the engine's evaluation order)."""
    groups: dict[str | None, list[ResolvedRule]] = {}
    paths: dict[str | None, cond.Path | None] = {}
    for resolved in rules:
        each = resolved.rule.for_each
        key = each.text if each else None
        groups.setdefault(key, []).append(resolved)
        paths[key] = each
    return [(paths[key], group) for key, group in groups.items()]


def _function(src: _Source, kind: str, rules: list[ResolvedRule], head_index: dict[int, int], fired_only: bool) -> list[str]:
    lines = [f"def screen_{kind}(d, as_of, reg, out):"]
    top: list[str] = []
    dossier = _Reads(src, "d", top, "    ")
    code = _Conditions(src)
    blocks: list[str] = []
    for each, group in _groups(rules):
        if each is None:
            scope = _Scope({cond.ROOT: dossier})
            tests = [code.expr(r.rule.condition, scope) for r in group]
            for resolved, test in zip(group, tests, strict=True):
                blocks.extend(_rule(src, code, resolved, test, scope, "    ", head_index, None, kind, fired_only))
            continue
        items = dossier.value(each.names, False)
        for_each = group[0].rule.spec.for_each
        assert for_each is not None, "a group iterating a list holds for_each rules only"
        name = for_each.as_
        item_lines: list[str] = []
        item = _Reads(src, "it", item_lines, "            ")
        scope = _Scope({cond.ROOT: dossier, name: item})
        tests = [code.expr(r.rule.condition, scope) for r in group]
        # a rule's findings for each item are gathered apart, then appended rule by rule (the interpreter's order);
        # a rule alone over its list appends directly
        found = ["out"] if len(group) == 1 else [src.fresh("f") for _ in group]
        base = each.pointer({cond.ROOT: ""}) + "/"
        blocks.append(f"    if {items}:")
        blocks.extend(f"        {f} = []" for f in found if f != "out")
        blocks.append(f"        for i, it in enumerate({items}):")
        blocks.extend(item_lines)
        for resolved, test, target in zip(group, tests, found, strict=True):
            blocks.extend(_rule(src, code, resolved, test, scope, "            ", head_index, (target, base), kind, fired_only))
        blocks.extend(f"        out += {f}" for f in found if f != "out")
    return lines + code.helpers + top + (blocks or ["    pass"])


def _rule(
    src: _Source,
    code: _Conditions,
    resolved: ResolvedRule,
    test: str,
    scope: _Scope,
    indent: str,
    head_index: dict[int, int],
    item: tuple[str, str] | None,
    kind: str,
    fired_only: bool,
) -> list[str]:
    """``if CONDITION:`` and the finding it appends, built from values already read where possible."""
    rule = resolved.rule
    lines = [f"{indent}# {rule.id}" if _RULE_ID.match(rule.id) else f"{indent}# rule {head_index[id(resolved)]}"]
    lines.append(f"{indent}if {test}:")
    inner = indent + "    "
    if fired_only:
        lines.append(f"{inner}{item[0] if item else 'out'}.append(({head_index[id(resolved)]}, {'i' if item else 'None'}))")
        return lines
    branch = _Scope({start: _Reads(src, r.base, lines, inner, parent=r) for start, r in scope.reads.items()}, scope.inline)
    pointer = "None"
    if item is not None:
        lines.append(f"{inner}p = {literal(item[1])} + str(i)")
        pointer = "p"
    messages = ", ".join(f"{literal(lang)}: {_message(code, template, lang, branch)}" for lang, template in resolved.messages.items())
    evidence = ", ".join(f"{_pointer(path, pointer)}: {_evidence(code, path, branch)}" for path in rule.evidence)
    if rule.subject is not None:
        subject, _ = code.path(rule.subject, branch)
    else:
        subject = "_broker_subject(d)" if kind == "broker" else "None"
    target = item[0] if item else "out"
    lines.append(
        f"{inner}{target}.append({{**H[{head_index[id(resolved)]}], 'message': {{{messages}}}, "
        f"'evidence': {{{evidence}}}, 'item': {pointer}, 'subject': {subject}}})"
    )
    return lines


def _message(code: _Conditions, template: Template, lang: str, scope: _Scope) -> str:
    parts = []
    for part in template.parts:
        if isinstance(part, str):
            parts.append(literal(part))
        elif not isinstance(part, cond.Path):
            raise Unsupported(f"wording {{@{part.name}}} not resolved (render a linked pack's templates)")
        else:
            value, _ = code.path(part, scope)
            parts.append(f"_show({value}, {literal(lang)}, {literal(enum_name(part))})")
    return " + ".join(parts) if parts else literal("")


def _pointer(path: cond.Path, item_pointer: str) -> str:
    """The evidence key: a literal for dossier paths, the item's pointer plus a literal suffix for item paths."""
    if path.start == cond.ROOT:
        return literal(path.pointer({cond.ROOT: ""}))
    suffix = "".join("/" + n for n in path.names)
    return f"{item_pointer} + {literal(suffix)}" if suffix else item_pointer


def _evidence(code: _Conditions, path: cond.Path, scope: _Scope) -> str:
    value, _ = code.path(path, scope)
    if path.type.kind == "date":
        return f"(None if {value} is None else {value}.isoformat())"
    return value
