"""The conformance table (tests/conformance/conditions.yaml) on the interpreter, the generated code and Rete.

Each backend must give every case's expected value; ``unknown`` means the
condition and its converse are both false. The table must hold every node type
and operator of the language (a new one without cases fails here), and the
Rete backend must refuse exactly the cases the table says it refuses.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, get_args

import pytest

from dossier_rules import codegen, rete, workers
from dossier_rules import conditions as cond
from dossier_rules.located_yaml import load_yaml
from dossier_rules.model import BrokerDossier, CandidateDossier
from dossier_rules.registries import Entry, LoadedRegistry, Registries, Registry, index_entries, keeper
from dossier_rules.sources import check_dossier_data

TABLE = Path(__file__).parent / "conformance" / "conditions.yaml"
CONVERSE = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "le": "gt", "gt": "le", "in": "not_in", "not_in": "in"}
CONVERSE |= {"listed_in": "not_listed_in", "not_listed_in": "listed_in"}
ROW_KEYS = {"name", "condition", "dossier", "expect", "as_of", "registries", "retrieved_on", "rete", "kind"}
SCOPES = {"candidate": cond.Scope(cond.type_of_model(CandidateDossier)), "broker": cond.Scope(cond.type_of_model(BrokerDossier))}


@dataclass(frozen=True)
class Case:
    """One row of the table, checked: the condition parsed, the dossier validated, the registries built."""

    name: str
    raw: dict[str, Any]
    node: cond.Node
    dossier: dict[str, Any]
    as_of: date
    registries: Registries
    expect: bool
    refused: bool


def _registries(country: str, declared: dict[str, list[dict[str, Any]]] | None, retrieved_on: date) -> Registries:
    built = {}
    for kind, entries in (declared or {}).items():
        registry = Registry(
            kind=kind, country=keeper(country, kind), source="conformance table", retrieved_on=retrieved_on, entries=[Entry(**e) for e in entries]
        )
        built[(registry.country, kind)] = LoadedRegistry(registry, TABLE, "", index_entries(registry))
    return Registries(built)


def converse(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The same comparison with its operator swapped for its converse (None when it has none)."""
    ops = [key for key in raw if key in CONVERSE]
    if len(ops) != 1 or not ({"field", "retrieved", *cond.AGGREGATES} & raw.keys()):
        return None
    return {(CONVERSE[k] if k == ops[0] else k): v for k, v in raw.items()}


def load_cases() -> list[Case]:
    """Every case, expanded: an ``unknown`` row becomes the condition and its converse, both expected false."""
    table, _ = load_yaml(TABLE)
    cases = []
    names = [row["name"] for row in table["cases"]]
    assert len(set(names)) == len(names), "two cases have the same name"
    for row in table["cases"]:
        assert set(row) <= ROW_KEYS and {"name", "condition", "dossier", "expect"} <= set(row), f"{row.get('name')}: keys {sorted(row)}"
        assert row["expect"] in (True, False, "unknown") and row.get("rete") in (None, "refused"), row["name"]
        kind = row.get("kind", "candidate")
        dossier = check_dossier_data({**copy.deepcopy(table["base"][kind]), **copy.deepcopy(row["dossier"])}, f"{TABLE.name}: {row['name']}")
        common = {
            "dossier": dossier,
            "as_of": date.fromisoformat(str(row.get("as_of", table["as_of"]))),
            "registries": _registries(dossier["country"], row.get("registries"), date.fromisoformat(str(row.get("retrieved_on", date.min)))),
            "refused": row.get("rete") == "refused",
        }
        conditions = [(row["name"], row["condition"], row["expect"] is True)]
        if row["expect"] == "unknown":
            other = converse(row["condition"])
            assert other is not None, f"{row['name']}: 'unknown' needs a comparison or look-up with a converse"
            conditions = [(row["name"], row["condition"], False), (f"{row['name']} (converse)", other, False)]
        for name, raw, expect in conditions:
            cases.append(Case(name, raw, cond.parse(raw, SCOPES[kind]), expect=expect, **common))
    return cases


CASES = load_cases()


def _env(case: Case) -> cond.Env:
    return {cond.ROOT: case.dossier, "$as_of": case.as_of, "$registries": case.registries.view(case.dossier["country"], case.as_of)}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_interpreter(case: Case) -> None:
    assert case.node.program()(_env(case)) is case.expect


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_generated_code(case: Case) -> None:
    env = _env(case)
    assert codegen.compile_condition(case.node)(case.dossier, case.as_of, env["$registries"]) is case.expect, codegen.condition_source(case.node)


def _rete_translation(case: Case, index: int) -> rete.RuleTranslation:
    translator = rete._Translator(f"case-{index}", None)
    return rete.RuleTranslation(f"case-{index}", "root", case.dossier["kind"], translator.translate(case.node), translator.extra)


def test_rete_refuses_exactly_what_the_table_says() -> None:
    wrong = []
    for index, case in enumerate(CASES):
        try:
            _rete_translation(case, index)
            refused = False
        except rete.Untranslatable as exc:
            assert f"rule case-{index}:" in str(exc)  # the refusal names the rule
            refused = True
        if refused != case.refused:
            wrong.append((case.name, "refused" if refused else "translated"))
    assert wrong == []


def _run_rete(cases: list[tuple[int, Case]]) -> list[bool]:
    """Each case as a one-rule ruleset in one durable-rules host; runs in a worker process."""
    from durable.engine import Host, MessageNotHandledException

    fired: set[int] = set()

    def record(index: int) -> Any:
        return lambda c: fired.add(index)

    translations = {index: _rete_translation(case, index) for index, case in cases}
    host = Host()
    host.set_rulesets({f"c{index}": {"r": {"all": [{"m": rete._guarded(t)}], "run": record(index)}} for index, t in translations.items()})
    for index, case in cases:
        fact = {"k": "root", "s": index, "n": -1, "r": rete.fact_value(case.dossier), "x": rete._extra(translations[index].extra, _env(case))}
        for action in (host.assert_fact, host.retract_fact):
            try:
                action(f"c{index}", fact)
            except MessageNotHandledException:
                pass
    return [index in fired for index, _ in cases]


def test_rete() -> None:
    pytest.importorskip("durable")
    supported = [(index, case) for index, case in enumerate(CASES) if not case.refused]
    results = workers.run_isolated(_run_rete, supported)
    wrong = [case.name for (_, case), got in zip(supported, results, strict=True) if got is not case.expect]
    assert wrong == []


def _operators(node: cond.Node) -> set[str]:
    """What one node exercises: its type, and its operator or function."""
    match node:
        case cond.Compare() | cond.Retrieved():
            return {type(node).__name__, node.op}
        case cond.Lookup():
            dated = {f"{node.op} before"} if node.before is not None else {f"{node.op} on"} if node.on is not None else set()
            return {type(node).__name__, node.op} | dated
        case cond.Among():
            return {type(node).__name__, cond.AMONG}
        case cond.AggregateCompare():
            return {type(node).__name__, node.op, node.aggregate.func}
        case cond.Quantifier():
            return {type(node).__name__, node.kind}
        case cond.Presence():
            return {type(node).__name__, "exists" if node.present else "missing"}
        case cond.All() | cond.Any_() | cond.Not():
            return {type(node).__name__}


def test_the_table_covers_every_node_type_and_operator() -> None:
    seen = {op for case in CASES for _, node in cond.walk(case.node) for op in _operators(node)}
    node_types = {t.__name__ for t in get_args(cond.Node)}
    operators = {
        *cond.COMPARISON_OPERATORS,
        *cond.LOOKUP_OPERATORS,
        *cond.AGGREGATES,
        "some",
        "every",
        "exists",
        "missing",
        cond.AMONG,
        "revoked_in before",
        "listed_in on",
        "not_listed_in on",
    }
    assert (node_types | operators) - seen == set()
    unknown = {case.name.removesuffix(" (converse)") for case in CASES if case.name.endswith(" (converse)")}
    with_unknown = {op for case in CASES if case.name in unknown for op in _operators(case.node)}
    assert {*cond.COMPARISON_OPERATORS, *cond.AGGREGATES, "listed_in", "not_listed_in", "listed_in on", "not_listed_in on", "Retrieved"} - with_unknown == set()


def test_every_node_class_is_in_the_closed_union() -> None:
    """A node class left out of ``Node`` would escape every exhaustive match: mypy cannot see it, so this does."""
    assert set(cond.NodeBase.__subclasses__()) == set(get_args(cond.Node))
