"""Generated pack code: equal to the closure interpreter, and literals from packs stay data.

The interpreter (``backend="interpreted"``) is the reference; ``test_rete.py``
proves the default (generated) engine equal to the Rete backend on the same
inputs, so together they show generated = interpreted = Rete.
"""

from __future__ import annotations

import ast
import json
import operator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, seed, settings

from dossier_rules import codegen
from dossier_rules.cli import main
from dossier_rules.engine import Engine
from dossier_rules.packs import PackSet, load_packs
from dossier_rules.registries import Registries
from dossier_rules.sources import check_dossier_data, load_dossier
from dossier_rules.testing import case_dossier, pack_test_registries

from .conftest import AGGREGATE_RULES, SAMPLES, write_pack
from .strategies import aggregate_candidates, budget, dossiers


def both(packset: PackSet, registries: Registries | None) -> tuple[Engine, Engine]:
    generated = Engine(packset, registries, max_registry_age=None)
    interpreted = Engine(packset, registries, max_registry_age=None, backend="interpreted")
    return generated, interpreted


def test_every_shipped_pack_is_generated(packset: PackSet) -> None:
    engine = Engine(packset)
    assert set(engine._screens) == {(p.country, k) for p in packset.packs.values() for k in codegen.KINDS}


def test_pack_cases_and_samples_agree(packset: PackSet, registries: Registries) -> None:
    checked = 0
    for pack in packset.packs.values():
        generated, interpreted = both(packset, pack_test_registries(pack))
        for resolved in pack.rules:
            for i, case in enumerate(resolved.rule.spec.tests):
                dossier = case_dossier(pack, resolved, i)
                assert generated.evaluate_data(dossier, case.as_of, timestamp=False) == interpreted.evaluate_data(dossier, case.as_of, timestamp=False), (
                    resolved.rule.id
                )
                checked += 1
    generated, interpreted = both(packset, registries)
    for path in sorted(SAMPLES.glob("*.json")):
        dossier = load_dossier(path.read_bytes(), str(path))
        assert generated.evaluate_data(dossier, timestamp=False) == interpreted.evaluate_data(dossier, timestamp=False), path.name
        checked += 1
    assert checked > 400


@pytest.fixture(scope="module")
def generated_and_interpreted(packset: PackSet, registries: Registries) -> tuple[Engine, Engine]:
    return both(packset, registries)


@seed(20261122)
@settings(max_examples=budget(10_000))
@given(dossier=dossiers())
def test_generated_dossiers_agree(dossier: dict[str, Any], generated_and_interpreted: tuple[Engine, Engine]) -> None:
    generated, interpreted = generated_and_interpreted
    data = check_dossier_data(dossier, "generated")
    assert generated.evaluate_data(data, timestamp=False) == interpreted.evaluate_data(data, timestamp=False), json.dumps(dossier, ensure_ascii=False)


# --------------------------------------------------------------------------- aggregates


@pytest.fixture(scope="module")
def aggregate_pack(tmp_path_factory: pytest.TempPathFactory) -> PackSet:
    from .conftest import MINI_PACK

    directory = tmp_path_factory.mktemp("aggregates")
    write_pack(directory, "xx.yaml", MINI_PACK.rstrip("\n") + AGGREGATE_RULES)
    return load_packs(directory)


def test_aggregates_are_generated_and_agree_on_their_cases(aggregate_pack: PackSet) -> None:
    (pack,) = aggregate_pack.packs.values()
    source = codegen.generate(pack).source
    assert "def a0(items):" in source and "return sum(values)" in source and "return len(values)" in source
    _assert_only_own_names(ast.parse(source))
    generated, interpreted = both(aggregate_pack, None)
    assert set(generated._screens) == {("KH", "candidate"), ("KH", "broker")}
    for resolved in pack.rules:
        for i, case in enumerate(resolved.rule.spec.tests):
            dossier = case_dossier(pack, resolved, i)
            report = generated.evaluate_data(dossier, case.as_of, timestamp=False)
            assert report == interpreted.evaluate_data(dossier, case.as_of, timestamp=False), resolved.rule.id
            assert (resolved.rule.id in {f["rule_id"] for f in report["findings"]}) == (case.expect == "fire"), (resolved.rule.id, case.name)


@pytest.fixture(scope="module")
def aggregate_engines(aggregate_pack: PackSet) -> tuple[Engine, Engine]:
    return both(aggregate_pack, None)


@seed(20261122)
@settings(max_examples=budget(1_500))
@given(dossier=aggregate_candidates("KH"))
def test_generated_dossiers_agree_on_aggregates(dossier: dict[str, Any], aggregate_engines: tuple[Engine, Engine]) -> None:
    generated, interpreted = aggregate_engines
    data = check_dossier_data(dossier, "generated")
    assert generated.evaluate_data(data, timestamp=False) == interpreted.evaluate_data(data, timestamp=False), json.dumps(dossier, ensure_ascii=False)


# --------------------------------------------------------------------------- hostile literals

HOSTILE = [
    "__import__('os').system('touch pwned')",
    "'; __import__('os'); '",
    '"""); raise SystemExit(""""',
    "line one\nline two\r\n\tend",
    "back\\slash \\' \\\" \\n \\x41 \\u0041 \\N{BULLET}",
    "\u2028\u2029\x0b\x0c separators",
    "{placeholder} {{braces}}",
    "ユニコード ✓ \U0001f600 \u202e gnirts",
    "#",
]
MESSAGE = "msg " + HOSTILE[0] + HOSTILE[3] + HOSTILE[2] + "\\' \\x41 \\u0041 \u2028"
"""Message text is pack text too (without braces, which are placeholders)."""
NUMBERS = [0, -0.0, 1e308, 10**30, 0.1, -5]
COMPARE = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}


def _q(value: Any) -> str:
    """YAML that loads as exactly this value: strings fully escaped (YAML has \\U for characters beyond
    the BMP, where JSON would write a surrogate pair), and a float exponent with a dot."""
    if isinstance(value, str):
        return '"' + "".join(_escape(c) for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(map(_q, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_q(k)}: {_q(v)}" for k, v in value.items()) + "}"
    text = json.dumps(value)
    if isinstance(value, float) and "e" in text and "." not in text:
        text = text.replace("e", ".0e")
    return text


def _escape(c: str) -> str:
    if c in '"\\':
        return "\\" + c
    if 32 <= ord(c) < 127:
        return c
    return f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"


def _rule(rid: str, when: str, fire: dict[str, Any], pas: dict[str, Any], for_each: str = "") -> str:
    # messages carry hostile text too (no braces: those are placeholders)
    message = _q(MESSAGE)
    return f"""
  - id: xx.{rid}
    title: {{ja: {_q(HOSTILE[2])}, en: {_q(HOSTILE[1])}}}
    article: "{{acts}}(a)"
    applies_to: candidate
    severity: warn{for_each}
    when: {when}
    message: {{ja: {message}, en: {message}}}
    tests:
      - {{name: fires, expect: fire, dossier: {_q(fire)}}}
      - {{name: passes, expect: pass, dossier: {_q(pas)}}}
"""


def hostile_pack() -> str:
    from .conftest import MINI_PACK

    head = MINI_PACK[: MINI_PACK.index("rules:")] + "rules:"
    rules = []
    hostile = HOSTILE[0]
    fees = lambda purpose, amount=1: {"fees": [{"purpose": purpose, "amount": amount}]}  # noqa: E731
    for i, text in enumerate(HOSTILE):
        rules.append(_rule(f"eq-{i}", f"{{field: identity.name, eq: {_q(text)}}}", {"identity": {"name": text}}, {"identity": {"name": "plain"}}))
        rules.append(_rule(f"ne-{i}", f"{{field: identity.name, ne: {_q(text)}}}", {"identity": {"name": "plain"}}, {"identity": {"name": text}}))
        rules.append(_rule(f"some-{i}", f"{{some: {{in: fees, as: f, where: {{field: f.purpose, eq: {_q(text)}}}}}}}", fees(text), fees("plain")))
        rules.append(_rule(f"every-{i}", f"{{every: {{in: fees, as: f, where: {{field: f.purpose, ne: {_q(text)}}}}}}}", fees("plain"), fees(text)))
    for i, text in enumerate(HOSTILE):
        count = f"{{count: {{in: fees, as: f, where: {{field: f.purpose, eq: {_q(text)}}}}}, ge: 1}}"
        rules.append(_rule(f"count-{i}", count, fees(text), fees("plain")))
        unit = f"{{not: {{sum: {{in: fees, as: f, of: f.amount, unit: {{field: f.currency, eq: {_q(text)}}}}}, ge: 0}}}}"
        rules.append(_rule(f"sum-unit-{i}", unit, {"fees": [{"amount": 1, "currency": "USD"}]}, {"fees": []}))
    rules.append(_rule("in", f"{{field: identity.name, in: {_q(HOSTILE)}}}", {"identity": {"name": hostile}}, {"identity": {"name": "plain"}}))
    rules.append(_rule("not-in", f"{{field: identity.name, not_in: {_q(HOSTILE)}}}", {"identity": {"name": "plain"}}, {"identity": {"name": hostile}}))
    rules.append(_rule("each-in", f"{{field: f.purpose, in: {_q(HOSTILE)}}}", fees(HOSTILE[3]), fees("plain"), "\n    for_each: {in: fees, as: f}"))
    amounts = [0, 0.05, 0.1, 1, 5, 1e300, 1e308, 10**30]  # a valid amount is never negative
    for i, number in enumerate(NUMBERS):
        for op, holds in COMPARE.items():
            fire = next((a for a in amounts if holds(a, number)), None)
            pas = next((a for a in amounts if not holds(a, number)), None)
            if fire is not None and pas is not None:
                rules.append(
                    _rule(f"n{op}-{i}", f"{{field: f.amount, {op}: {_q(number)}}}", fees("x", fire), fees("x", pas), "\n    for_each: {in: fees, as: f}")
                )
    return head + "".join(rules)


def test_hostile_literals_stay_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_pack(tmp_path, "xx.yaml", hostile_pack())
    packset = load_packs(tmp_path)
    (pack,) = packset.packs.values()
    generated = codegen.generate(pack)
    tree = ast.parse(generated.source)
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert set(HOSTILE) <= strings  # each hostile text is one string constant, nothing more
    _assert_only_own_names(tree)
    engine, interpreted = both(packset, pack_test_registries(pack))
    assert set(engine._screens) == {("KH", "candidate"), ("KH", "broker")}
    fired_rules = 0
    for resolved in pack.rules:
        for i, case in enumerate(resolved.rule.spec.tests):
            dossier = case_dossier(pack, resolved, i)
            report = engine.evaluate_data(dossier, timestamp=False)
            assert report == interpreted.evaluate_data(dossier, timestamp=False), resolved.rule.id
            ids = [f["rule_id"] for f in report["findings"]]
            assert (resolved.rule.id in ids) == (case.expect == "fire"), (resolved.rule.id, case.name)
            fired_rules += case.expect == "fire"
            if resolved.rule.id in ids:
                finding = next(f for f in report["findings"] if f["rule_id"] == resolved.rule.id)
                assert finding["message"] == {"ja": MESSAGE, "en": MESSAGE}
                assert finding["title"] == {"ja": HOSTILE[2], "en": HOSTILE[1]}
    assert fired_rules == len(pack.rules) > 60
    assert not (tmp_path / "pwned").exists()


def _assert_only_own_names(tree: ast.AST) -> None:
    """Every name in generated code is a runtime helper, an argument, or a local the generator numbered."""
    allowed = set(codegen.RUNTIME) | set(codegen.RUNTIME["__builtins__"]) | {"d", "as_of", "reg", "out", "H", "i", "it", "p", "items", "values", "value"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            assert node.id in allowed or (node.id[0] in "vqtfaC" and node.id[1:].isdigit()), node.id
        if isinstance(node, ast.Attribute):
            assert node.attr in {
                "get",
                "append",
                "isoformat",
                "listed",
                "revoked",
                "revoked_before",
                "listed_on",
                "ever_listed",
                "retrieved_on",
                "available",
                "listed_under_other_name",
            }, node.attr
        assert not isinstance(node, (ast.Import, ast.ImportFrom, ast.Lambda, ast.ClassDef, ast.Global, ast.Nonlocal, ast.Delete, ast.With, ast.Try))


def test_shipped_packs_use_only_own_names(packset: PackSet) -> None:
    for pack in packset.packs.values():
        _assert_only_own_names(ast.parse(codegen.generate(pack).source))


@pytest.mark.parametrize("value", [float("inf"), float("nan"), b"bytes", ("tuple",), {"a": 1}, object()])
def test_only_json_scalars_become_literals(value: Any) -> None:
    with pytest.raises(codegen.Unsupported):
        codegen.literal(value)


@pytest.mark.parametrize("value", [None, True, False, 0, -0.0, 1e308, 10**30, "", *HOSTILE])
def test_literals_read_back_as_the_same_value(value: Any) -> None:
    text = codegen.literal(value)
    assert ast.literal_eval(text) == value and type(ast.literal_eval(text)) is type(value)


def test_packs_compile_shows_the_source() -> None:
    runner = CliRunner()
    shown = runner.invoke(main, ["packs", "compile", "kh", "--show"])
    assert shown.exit_code == 0, shown.output
    assert "def screen_candidate(d, as_of, reg, out):" in shown.output and "# kh.certificate-missing" in shown.output
    one = runner.invoke(main, ["packs", "compile", "common.act-e-fee-without-basis", "--show"])
    assert one.exit_code == 0 and "# common.act-e-fee-without-basis" in one.output and "# kh.certificate-missing" not in one.output
    summary = runner.invoke(main, ["packs", "compile"])
    assert summary.exit_code == 0 and "kh" in summary.output and "generated" in summary.output
    unknown = runner.invoke(main, ["packs", "compile", "kh.no-such-rule", "--show"])
    assert unknown.exit_code == 2 and "no pack or rule" in unknown.output
