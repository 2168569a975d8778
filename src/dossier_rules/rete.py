"""The Rete backend: each pack's rules as a durable-rules ruleset, proven equal to the native engine.

durable-rules decides which rules fire; the findings themselves (messages,
evidence, subject) are built by the same code as the native engine, so the
two backends can only differ in *whether* a rule fires, which is what the
differential tests compare.

What a probe of durable-rules 2.0.28 showed here, and how it shapes this:

* an event is consumed by one rule, so each dossier is asserted as *facts*
  and retracted afterwards; ``MessageNotHandledException`` only means that no
  rule matched;
* ``$nex`` (field absent) never returns: it is never emitted. Presence is
  *materialized*: the fact carries a flag per field path a rule reads;
* a comparison with another field matches when that field is absent: both
  sides are guarded with ``$ex``;
* ``$iall`` does not match an empty or absent array, where ``every`` is true;
* joins between facts crashed the process: a dossier is one root fact, plus one
  fact per list item for ``for_each`` rules, each carrying the whole dossier
  (``r``) and the item (``i``), so no rule joins facts.

Operators durable-rules cannot express are materialized as fields of the fact
before it is asserted (the value is computed by the native program of that
sub-condition, and Rete compares it): registry look-ups, membership in a list
field, aggregates (``count``/``sum``/``min``/``max`` compared with their
operand), the as-of date shifted by an offset, a registry's retrieval date
compared (``retrieved``), and whether a party is among a list of parties
(``among``). Anything else that cannot be
translated (a ``some``/``every`` whose condition needs materialized values,
an offset on a field) is refused when the pack is loaded for this backend,
with the rule named. A crash inside durable-rules kills the process it runs
in, so this backend only runs inside worker processes
(:mod:`dossier_rules.workers`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, assert_never

from . import conditions as cond
from .packs import CompiledRule, Pack, PackSet
from .problems import InputError, Problem

NEGATE: dict[cond.OrderingOp, str] = {"eq": "$neq", "lt": "$gte", "le": "$gt", "gt": "$lte", "ge": "$lt"}  # ne: its negation is eq, a plain match
DURABLE: dict[cond.OrderingOp, str] = {"ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}


class Untranslatable(Exception):
    """A condition the Rete backend cannot express; the message names the rule."""


@dataclass
class _Materialized:
    """Values computed before assertion, each under ``x.<key>`` in the fact.

    ``present``: is the path provided; ``count``: length of a list (0 when
    absent); ``truth``: the native program of a sub-condition; ``dates``: the
    as-of date shifted by an offset, as an ISO string; ``values``: an
    aggregate (count, sum, min, max) under its key, with ``<key>_known``
    false when it is unknown.
    """

    present: dict[str, cond.Getter] = field(default_factory=dict)
    count: dict[str, cond.Getter] = field(default_factory=dict)
    truth: dict[str, cond.Program] = field(default_factory=dict)
    dates: dict[str, cond.Getter] = field(default_factory=dict)
    values: dict[str, cond.Getter] = field(default_factory=dict)

    def merge(self, other: _Materialized) -> None:
        self.present.update(other.present)
        self.count.update(other.count)
        self.truth.update(other.truth)
        self.dates.update(other.dates)
        self.values.update(other.values)


class _Translator:
    """Translates one rule's checked condition into durable-rules JSON."""

    def __init__(self, rule_id: str, item_name: str | None, counter: Iterator[int] | None = None):
        self.rule_id = rule_id
        self.item_name = item_name
        self.extra = _Materialized()
        self.counter = counter if counter is not None else itertools.count()

    def fail(self, what: str) -> Untranslatable:
        return Untranslatable(f"rule {self.rule_id}: {what} cannot be expressed in the rete backend")

    # -- paths

    def name(self, path: cond.Path) -> str:
        """Where a path lives in the fact: ``r.<path>`` for the dossier, ``i.<path>`` for the item."""
        if path.start == cond.ROOT:
            return "r." + ".".join(path.names)
        if path.start == self.item_name:
            return "i." + ".".join(path.names) if path.names else "i"
        raise self.fail(f"the bound name '{path.start}'")

    def present(self, path: cond.Path, yes: bool) -> dict[str, Any]:
        key = "has_" + path.text.replace(".", "_")
        self.extra.present[key] = path.getter
        return {"x." + key: yes}

    def materialize(self, node: cond.Node, truth: bool) -> dict[str, Any]:
        key = f"truth_{next(self.counter)}"
        self.extra.truth[key] = node.program()
        return {"x." + key: truth}

    def operand(self, operand: cond.Operand) -> tuple[Any, list[dict[str, Any]]]:
        """The right-hand side and the guards it needs."""
        if operand.is_constant:
            value = operand.constant
            return (value.isoformat() if isinstance(value, date) else value), []
        if operand.var is not None:
            if operand.offset is None:
                return {"$m": "x.as_of"}, []
            key = f"date_{next(self.counter)}"
            self.extra.dates[key] = operand.getter()
            return {"$m": "x." + key}, [{"$ex": {"x." + key: 1}}]
        assert operand.path is not None
        if operand.offset is not None:
            raise self.fail("an offset on a field")
        return {"$m": self.name(operand.path)}, [{"$ex": {self.name(operand.path): 1}}]

    # -- conditions

    def translate(self, node: cond.Node, negated: bool = False) -> dict[str, Any]:
        match node:
            case cond.Not():
                return self.translate(node.item, not negated)
            case cond.All() | cond.Any_():
                op = "$and" if isinstance(node, cond.All) != negated else "$or"
                parts: list[dict[str, Any]] = []
                for item in node.items:  # durable-rules refuses an $and directly inside an $and: flatten
                    part = self.translate(item, negated)
                    parts.extend(part[op] if list(part) == [op] else [part])
                return {op: parts}
            case cond.Presence():
                return self.present(node.path, node.present != negated)
            case cond.Lookup() | cond.Retrieved() | cond.Among():  # computed natively, compared as a truth value
                return self.materialize(node, not negated)
            case cond.AggregateCompare():
                return self.aggregate(node, negated)
            case cond.Compare():
                return self.compare(node, negated)
            case cond.Quantifier():
                return self.quantifier(node, negated)
            case _:
                assert_never(node)

    def compare(self, node: cond.Compare, negated: bool) -> dict[str, Any]:
        op = node.op
        match op:
            case "in" | "not_in":
                return self.membership(node, negated)
            case "eq" | "ne" | "lt" | "le" | "gt" | "ge":
                right, guards = self.operand(node.operand)
                return _ordered(self.name(node.path), op, right, guards, self.missing([node.path], node.operand, negated), negated)
            case _:
                assert_never(op)

    def membership(self, node: cond.Compare, negated: bool) -> dict[str, Any]:
        """``in``/``not_in`` a literal list as alternatives; in a list field, computed natively (materialized)."""
        if not node.operand.is_constant:
            return self.materialize(node, not negated)
        left = self.name(node.path)
        members = sorted(node.operand.constant, key=repr)
        inside = node.op == "in"
        if inside != negated:  # value is one of the members
            return {"$or": [{left: m} for m in members]}
        test = {"$and": [{"$neq": {left: m}} for m in members]}
        # "not in" is false on a missing value; its negation ("in" negated) is true then
        return {"$or": [self.present(node.path, False), test]} if negated else test

    def aggregate(self, node: cond.AggregateCompare, negated: bool) -> dict[str, Any]:
        """The aggregate is computed natively into the fact; durable-rules compares it with the operand."""
        key = f"agg_{next(self.counter)}"
        self.value(key, node.aggregate.getter())
        right, guards = self.operand(node.operand)
        missing = [{"x." + key + "_known": False}, *self.missing([], node.operand, negated)] if negated else []
        guards = [{"x." + key + "_known": True}, *guards]
        return _ordered("x." + key, node.op, right, guards, missing, negated)

    def value(self, key: str, getter: cond.Getter) -> None:
        self.extra.values[key] = getter

    def missing(self, paths: list[cond.Path], operand: cond.Operand, negated: bool) -> list[dict[str, Any]]:
        """Tests that a side of a negated comparison is missing (none needed when it is not negated)."""
        if not negated:
            return []
        paths = paths + ([operand.path] if operand.path is not None else [])
        return [self.present(path, False) for path in paths]

    def quantifier(self, node: cond.Quantifier, negated: bool) -> dict[str, Any]:
        some = (node.kind == "some") != negated
        inner = _ItemTranslator(self, node.name).translate(node.where, negated)
        listed = self.name(node.path)
        if some:
            return {"$iany": {listed: inner}}
        key = "count_" + node.path.text.replace(".", "_")
        self.extra.count[key] = node.path.getter
        return {"$or": [{"x." + key: 0}, {"$iall": {listed: inner}}]}


def _ordered(left: str, op: cond.OrderingOp, right: Any, guards: list[dict[str, Any]], missing: list[dict[str, Any]], negated: bool) -> dict[str, Any]:
    """``left op right`` (``guards`` say both sides are known), or its negation, which is also true
    when either side is missing (any of ``missing``): unknown is not false."""
    if not negated:
        test: dict[str, Any] = {left: right} if op == "eq" else {DURABLE[op]: {left: right}}
        return {"$and": guards + [test]} if guards else test
    opposite: dict[str, Any] = {left: right} if op == "ne" else {NEGATE[op]: {left: right}}
    return {"$or": missing + [{"$and": guards + [opposite]} if guards else opposite]}


class _ItemTranslator(_Translator):
    """Inside ``$iany``/``$iall``: item fields are ``$i.<path>``; nothing can be materialized per item."""

    def __init__(self, outer: _Translator, name: str):
        super().__init__(outer.rule_id, name, outer.counter)

    def name(self, path: cond.Path) -> str:
        if path.start == self.item_name:
            return "$i." + ".".join(path.names) if path.names else "$i"
        raise self.fail("a some/every condition that reads fields outside its item")

    def present(self, path: cond.Path, yes: bool) -> dict[str, Any]:
        raise self.fail("a missing/exists test (or a negated comparison) inside some/every")

    def materialize(self, node: cond.Node, truth: bool) -> dict[str, Any]:
        raise self.fail("a registry look-up, a retrieval date, a party among parties or list-field membership inside some/every")

    def value(self, key: str, getter: cond.Getter) -> None:
        raise self.fail("an aggregate (count/sum/min/max) inside some/every")

    def operand(self, operand: cond.Operand) -> tuple[Any, list[dict[str, Any]]]:
        if not operand.is_constant:
            raise self.fail("a comparison with a field or variable inside some/every")
        return super().operand(operand)


@dataclass(frozen=True)
class RuleTranslation:
    rule_id: str
    scope: str  # "root" or the for_each list path
    kind: str
    condition: dict[str, Any]
    extra: _Materialized


def translate_pack(pack: Pack) -> list[RuleTranslation]:
    """Every rule of a pack translated; raises :class:`Untranslatable` naming the first rule that is not."""
    out = []
    counter = itertools.count()  # keys of materialized values are unique across the pack's facts
    for resolved in pack.rules:
        rule = resolved.rule
        name = rule.spec.for_each.as_ if rule.spec.for_each else None
        translator = _Translator(rule.id, name, counter)
        condition = translator.translate(rule.condition)
        scope = rule.for_each.text if rule.for_each else "root"
        out.append(RuleTranslation(rule.id, scope, rule.spec.applies_to, condition, translator.extra))
    return out


def refusals(packset: PackSet) -> list[tuple[CompiledRule, str]]:
    """(rule, why) for every rule the Rete backend refuses, each rule once (empty: all packs translate)."""
    found: dict[str, tuple[CompiledRule, str]] = {}
    for pack in packset.packs.values():
        for resolved in pack.rules:
            rule = resolved.rule
            if rule.id in found:
                continue
            try:
                _Translator(rule.id, rule.spec.for_each.as_ if rule.spec.for_each else None).translate(rule.condition)
            except Untranslatable as exc:
                found[rule.id] = (rule, str(exc))
    return list(found.values())


def check_packs(packset: PackSet) -> list[str]:
    """Messages for every rule the Rete backend refuses (empty: all packs translate)."""
    return sorted(f"{rule.source}:{rule.line}: {why}" for rule, why in refusals(packset))


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class _Scope:
    """The rules that look at one kind of fact of one pack: the dossier itself, or the items of one list."""

    list_getter: cond.Getter | None
    name: str | None
    extra: _Materialized


class ReteEvaluator:
    """Which rules fire for a dossier, decided by durable-rules. Run it only in a worker process."""

    def __init__(self, packset: PackSet):
        from durable.engine import Host, MessageNotHandledException  # imported here: only workers load the C extension

        self._not_handled = MessageNotHandledException
        self.host = Host()
        self.hits: list[tuple[str, int | None]] = []
        self.scopes: dict[tuple[str, str], dict[str, _Scope]] = {}
        rulesets: dict[str, Any] = {}
        for pack in packset.packs.values():
            rules = {}
            for t in translate_pack(pack):
                rules[t.rule_id] = {"all": [{"m": _guarded(t)}], "run": self._action(t.rule_id)}
                scopes = self.scopes.setdefault((pack.id, t.kind), {})
                if t.scope not in scopes:
                    rule = next(r.rule for r in pack.rules if r.rule.id == t.rule_id)
                    getter = rule.for_each.getter if rule.for_each else None
                    scopes[t.scope] = _Scope(getter, rule.spec.for_each.as_ if rule.spec.for_each else None, _Materialized())
                scopes[t.scope].extra.merge(t.extra)
            rulesets[pack.id] = rules
        try:
            self.host.set_rulesets(rulesets)
        except Exception as exc:  # noqa: BLE001 durable-rules raises bare Exception and says only "error code N": find and name the rule
            raise Untranslatable(_refused(rulesets) or f"durable-rules refused the rulesets: {exc}") from None
        self._serial = itertools.count()

    def _action(self, rule_id: str) -> Any:
        # durable-rules swallows exceptions raised in actions, so this must not be able to fail:
        # ``c.m`` is not a dict (its ``get`` is None), but every fact has "n" (-1 for the dossier itself)
        def record(c: Any) -> None:
            index = c.m["n"]
            self.hits.append((rule_id, None if index < 0 else index))

        return record

    def fired(self, pack: Pack, dossier: Any, env: cond.Env) -> set[tuple[str, int | None]]:
        """(rule id, item index or None) for every rule that fires on this dossier."""
        self.hits = []
        root = fact_value(dossier)  # durable-rules must see an unknown fact as absent ($ex)
        serial = next(self._serial)
        for scope, spec in self.scopes.get((pack.id, dossier["kind"]), {}).items():
            if spec.list_getter is None:
                self._assert(pack.id, {"k": scope, "s": serial, "n": -1, "r": root, "x": _extra(spec.extra, env)})
                continue
            assert spec.name is not None, "the items of a list are bound to the rule's name"
            for index, item in enumerate(spec.list_getter(env) or ()):
                env[spec.name] = item
                self._assert(pack.id, {"k": scope, "s": serial, "n": index, "r": root, "i": fact_value(item), "x": _extra(spec.extra, env)})
        return set(self.hits)

    def _assert(self, ruleset: str, fact: dict[str, Any]) -> None:
        try:
            self.host.assert_fact(ruleset, fact)
        except self._not_handled:
            pass
        try:
            self.host.retract_fact(ruleset, fact)
        except self._not_handled:
            pass


def fact_value(value: Any, at: str = "") -> Any:
    """JSON as durable-rules can read it: ``null`` members dropped, numbers in a form its parser accepts.

    durable-rules refuses a number written with an exponent and no decimal
    point (``1e+16``, ``5e-324``: error 204, which used to end the run). Python
    writes a float that way when it is integral and at least 1e16, or smaller
    than 1e-4: the first is sent as the equal integer; the second has no exact
    form it reads, so the record gets an error record naming the value.
    """
    if isinstance(value, dict):
        return {k: fact_value(v, f"{at}/{k}") for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [fact_value(v, f"{at}/{i}") for i, v in enumerate(value)]
    if isinstance(value, float) and "e" in (text := repr(value)) and "." not in text:
        if value.is_integer():
            return int(value)
        message = f"the number {text} cannot be evaluated by the rete backend (its form is refused by durable-rules); use --engine native"
        raise InputError([Problem("", message, kind="unsupported_number", pointer=at or "/")])
    return value


def _guarded(t: RuleTranslation) -> dict[str, Any]:
    """The rule's condition, restricted to its kind of fact and dossier."""
    condition = t.condition["$and"] if list(t.condition) == ["$and"] else [t.condition]
    return {"$and": [{"k": t.scope}, {"r.kind": t.kind}, *condition]}


def _refused(rulesets: dict[str, Any]) -> str | None:
    """The first rule durable-rules will not create, by name."""
    from durable.engine import Host

    for pack_id, rules in rulesets.items():
        for rule_id, rule in rules.items():
            try:
                Host().set_rulesets({"probe": {rule_id: dict(rule)}})
            except Exception as exc:  # noqa: BLE001 durable-rules raises bare Exception for a refused ruleset
                return f"rule {rule_id} (pack {pack_id}): durable-rules refuses its translation ({exc})"
    return None


_EVALUATORS: dict[int, ReteEvaluator] = {}


def evaluator_for(packset: PackSet) -> ReteEvaluator:
    """One durable-rules host per pack set and process: many hosts registering the same
    rulesets in one process is the kind of use the probe saw crash."""
    if id(packset) not in _EVALUATORS:
        _EVALUATORS[id(packset)] = ReteEvaluator(packset)
    return _EVALUATORS[id(packset)]


def verify(packset: PackSet) -> str:
    """Build every ruleset in durable-rules; run in an isolated process (see :func:`workers.run_isolated`)."""
    evaluator_for(packset)
    return "ok"


def _extra(spec: _Materialized, env: cond.Env) -> dict[str, Any]:
    """The materialized values of one fact, computed with the native programs of those parts."""
    extra: dict[str, Any] = {"as_of": env["$as_of"].isoformat()}
    for key, get in spec.present.items():
        extra[key] = get(env) is not None
    for key, get in spec.count.items():
        extra[key] = len(get(env) or ())
    for key, program in spec.truth.items():
        extra[key] = bool(program(env))
    for key, get in spec.dates.items():
        shifted = get(env)
        if shifted is not None:
            extra[key] = shifted.isoformat()
    for key, get in spec.values.items():
        value = get(env)
        extra[key + "_known"] = value is not None
        if value is not None:
            extra[key] = value.isoformat() if isinstance(value, date) else value
    return extra
