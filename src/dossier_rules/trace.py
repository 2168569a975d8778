"""Why a rule fired or did not: each condition node with the values it read and its result.

A rule author whose test fails needs more than "expected the rule to fire,
it did not": which member of an ``all`` was false, what value the
comparison saw, and whether it saw nothing at all. :func:`trace_rule`
re-evaluates one rule's checked condition node by node, with the same
compiled programs the engine runs (so a trace cannot disagree with a
report), and records for every node what it read (JSON pointer -> value)
and its result. A comparison whose field is absent is marked "not
evaluated: field missing"; members of ``all``/``any`` after the one that
decided are marked as not evaluated; ``some``/``every`` and an aggregate's
``where`` show each item up to :data:`MAX_ITEMS`. Each step records which
child of its node it evaluated (``key``), so branch coverage matches steps to
nodes through :meth:`conditions.NodeBase.children` alone.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any, assert_never

from . import conditions as cond
from .labels import term
from .locale import N_, _, language
from .packs import Pack, ResolvedRule
from .registries import Registries
from .sources import Data

MAX_ITEMS = 20
"""Items of a list shown per ``some``/``every``/``for_each`` in a trace; the rest are counted, not shown."""

MISSING = N_("not evaluated: field missing")
SKIPPED = N_("not evaluated: the result was already decided")
NOT_LOADED = N_("not evaluated: registry not loaded")
UNKNOWN_AGGREGATE = N_("not evaluated: the aggregate is unknown (list missing, or a matching item lacks the value or its unit)")
NO_LIST = N_("the list is missing")
EMPTY_LIST = N_("the list is empty")
MORE_ITEMS = N_("{count} more item(s) not shown")
"""Notes of a step: English in the JSON trace, in the reader's language in the text one."""


@dataclass
class Step:
    """One condition node as evaluated: what it says, what it read, its result, and its parts."""

    text: str
    result: bool | None
    values: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    children: list[Step] = field(default_factory=list)
    item: str | None = None
    key: str | None = None
    """Which child of its parent node this step evaluated (its key in :meth:`conditions.NodeBase.children`)."""
    count: int | None = None
    """The number a note such as :data:`MORE_ITEMS` carries."""

    def to_json(self) -> Data:
        out: Data = {"node": self.text, "result": self.result}
        if self.item is not None:
            out["item"] = self.item
        if self.values:
            out["values"] = self.values
        if self.note:
            out["note"] = self.note.format(count=self.count)
        if self.children:
            out["children"] = [c.to_json() for c in self.children]
        return out

    def lines(self, indent: int = 0) -> list[str]:
        pad = "  " * indent
        mark = {True: "TRUE ", False: "false", None: "  -  "}[self.result]
        head = f"{pad}[{mark}] " + (_("item {item}: ", item=self.item) if self.item is not None else "") + self.text
        read = ", ".join(f"{pointer} = {_show(value)}" for pointer, value in self.values.items())
        note = _(self.note, count=self.count) if self.note else ""
        out = [head + ("    " + _("(read {values})", values=read) if read else "") + ("    " + _("({note})", note=note) if note else "")]
        for child in self.children:
            out += child.lines(indent + 1)
        return out


@dataclass
class RuleTrace:
    """One rule on one dossier: whether it fired (per item for ``for_each`` rules) and why."""

    rule: str
    fired: bool
    steps: list[Step]
    more_items: int = 0

    def to_json(self) -> Data:
        out: Data = {"rule": self.rule, "fired": self.fired, "trace": [s.to_json() for s in self.steps]}
        if self.more_items:
            out["more_items"] = self.more_items
        return out

    def lines(self) -> list[str]:
        out = [f"{self.rule}: " + (_("FIRED") if self.fired else _("did not fire"))]
        for step in self.steps:
            out += step.lines(1)
        if self.more_items:
            out.append("  ... " + _(MORE_ITEMS, count=self.more_items))
        return out


def _show(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return _("(missing)")
    if isinstance(value, str):
        return value if value.startswith("(") else repr(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _json(value: Any) -> Any:
    """A value as a trace shows it: scalars as read; objects and lists summarised (only their presence matters)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return "(object)"
    if isinstance(value, list):
        return f"(list of {len(value)})"
    return value


class _Tracer:
    def __init__(self, env: cond.Env, bases: dict[str, str]):
        self.env = env
        self.bases = bases

    def read(self, path: cond.Path) -> tuple[str, Any]:
        return path.pointer(self.bases), path.getter(self.env)

    def step(self, node: cond.Node) -> Step:
        match node:
            case cond.All() | cond.Any_():
                return self.combine(node)
            case cond.Not():
                inner = self.step(node.item)
                inner.key = "not"
                return Step("not", None if inner.result is None else not inner.result, children=[inner])
            case cond.Quantifier():
                return self.quantifier(node)
            case cond.AggregateCompare():
                return self.aggregate(node)
            case cond.Presence() | cond.Compare() | cond.Lookup() | cond.Retrieved() | cond.Among():
                return self.leaf(node)
            case _:
                assert_never(node)

    def leaf(self, node: cond.Presence | cond.Compare | cond.Lookup | cond.Retrieved | cond.Among) -> Step:
        """A node without children: the values it read, and whether one it compared was missing."""
        values: dict[str, Any] = {}
        note = None
        for path in node.own_paths():
            pointer, value = self.read(path)
            values[pointer] = _json(value)
            if value is None and not isinstance(node, cond.Presence) and note is None:
                note = MISSING
        if isinstance(node, cond.Retrieved):
            retrieved = self.env["$registries"].retrieved_on(node.kind)
            values[f"registry {node.kind} retrieved on"] = _json(retrieved)
            note = note or (None if retrieved is not None else NOT_LOADED)
        if isinstance(node, cond.Compare | cond.Retrieved):
            self.variable(node.operand, values)
        return Step(str(node), bool(node.program()(self.env)), values, note)

    def variable(self, operand: cond.Operand, values: dict[str, Any]) -> None:
        """The evaluation date, shifted as written, among the values a comparison read."""
        if operand.var is not None:
            values[str(operand).strip("()")] = _json(operand.getter()(self.env))

    def aggregate(self, node: cond.AggregateCompare) -> Step:
        """The aggregate's value, its operand, and (with ``where``) each item up to the one that made it unknown."""
        agg = node.aggregate
        value = agg.getter()(self.env)
        values: dict[str, Any] = {str(agg): _json(value)}
        note = None if value is not None else UNKNOWN_AGGREGATE
        for path in node.operand.own_paths():
            pointer, read = self.read(path)
            values[pointer] = _json(read)
            note = note or (MISSING if read is None else None)
        self.variable(node.operand, values)
        children: list[Step] = []
        pointer, items = self.read(agg.path)
        if agg.where is not None and agg.name is not None:
            for index, item in enumerate((items or [])[:MAX_ITEMS]):
                self.env[agg.name] = item
                self.bases[agg.name] = f"{pointer}/{index}"
                child = self.step(agg.where)
                child.item, child.key = f"{pointer}/{index}", "where"
                children.append(child)
                if child.result and agg.item_value(self.env)[0]:
                    break  # this item made the aggregate unknown: the items after it were not evaluated
        return Step(str(node), bool(node.program()(self.env)), values, note, children)

    def combine(self, node: cond.All | cond.Any_) -> Step:
        deciding = not isinstance(node, cond.All)  # all stops at the first false, any at the first true
        children: list[Step] = []
        result = not deciding
        for index, item in enumerate(node.items):
            if result == deciding:
                children.append(Step(str(item), None, note=SKIPPED, key=str(index)))
                continue
            child = self.step(item)
            child.key = str(index)
            children.append(child)
            if child.result == deciding:
                result = deciding
        return Step("all of" if isinstance(node, cond.All) else "any of", result, children=children)

    def quantifier(self, node: cond.Quantifier) -> Step:
        pointer, items = self.read(node.path)
        word = "for some" if node.kind == "some" else "for every"
        text = f"{word} {node.name} in {node.path.text}"
        result = bool(node.program()(self.env))
        if items is None:
            return Step(text, result, {pointer: None}, NO_LIST)
        children = []
        for index, item in enumerate(items[:MAX_ITEMS]):
            self.env[node.name] = item
            self.bases[node.name] = f"{pointer}/{index}"
            child = self.step(node.where)
            child.item, child.key = f"{pointer}/{index}", "where"
            children.append(child)
        if len(items) > MAX_ITEMS:
            return Step(text, result, note=MORE_ITEMS, children=children, count=len(items) - MAX_ITEMS)
        return Step(text, result, note=None if items else EMPTY_LIST, children=children)


def trace_rule(pack: Pack, resolved: ResolvedRule, dossier: Data, as_of: date, registries: Registries | None = None) -> RuleTrace:
    """Evaluate one rule of ``pack`` on a (validated) dossier, node by node."""
    rule = resolved.rule
    view = (registries or Registries.empty()).view(pack.country, as_of)
    env: cond.Env = {cond.ROOT: dossier, "$as_of": as_of, "$registries": view}
    if rule.for_each is None:
        step = _Tracer(env, {cond.ROOT: ""}).step(rule.condition)
        return RuleTrace(rule.id, bool(step.result), [step])
    assert rule.spec.for_each is not None, "a rule's compiled for_each comes from its spec's"
    name = rule.spec.for_each.as_
    pointer = rule.for_each.pointer({cond.ROOT: ""})
    items = rule.for_each.getter(env) or []
    steps = []
    for index, item in enumerate(items[:MAX_ITEMS]):
        env[name] = item
        step = _Tracer(env, {cond.ROOT: "", name: f"{pointer}/{index}"}).step(rule.condition)
        step.item = f"{pointer}/{index}"
        steps.append(step)
    fired = False
    for item in items:  # every item decides, shown or not
        env[name] = item
        if rule.program(env):
            fired = True
            break
    if not items:
        steps.append(
            Step(f"for each {name} in {rule.for_each.text}", False, {pointer: _json(rule.for_each.getter(env))}, "no items: the rule has nothing to check")
        )
    return RuleTrace(rule.id, fired, steps, max(0, len(items) - MAX_ITEMS))


def trace_dossier(
    pack: Pack, dossier: Data, as_of: date, registries: Registries | None = None, rule_id: str | None = None, only: Collection[str] | None = None
) -> list[RuleTrace]:
    """Every rule of ``pack`` for the dossier's kind (or the one named, or those in ``only``), traced."""
    rules = [r for r in pack.rules_for(dossier["kind"]) if (rule_id is None or r.rule.id == rule_id) and (only is None or r.rule.id in only)]
    return [trace_rule(pack, r, dossier, as_of, registries) for r in rules]


def applies(pack: Pack, kind: str, rule_id: str) -> bool:
    """Whether ``pack`` applies the rule to dossiers of ``kind`` (what a trace of that rule needs)."""
    return any(r.rule.id == rule_id for r in pack.rules_for(kind))


NOT_APPLIED = N_("rule {rule} is not applied to {kind} dossiers under pack {pack}")


def not_applied(pack: Pack, kind: str, rule_id: str) -> str:
    """Why a named rule has no trace for a dossier (``trace --rule``, ``check --explain RULE_ID``), in the reader's language."""
    return _(NOT_APPLIED, rule=rule_id, kind=term(kind, "ja" if language() == "ja" else "en"), pack=pack.id)


def for_item(rule_trace: RuleTrace, item: str | None) -> list[str]:
    """The trace's lines, for a finding of a ``for_each`` rule only the steps of its item (its pointer)."""
    steps = [s for s in rule_trace.steps if item is not None and s.item == item]
    if not steps:
        return rule_trace.lines()
    return [line for step in steps for line in step.lines(1)]
