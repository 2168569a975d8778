"""Branch coverage: each condition node must be seen true by some case and false by another."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from dossier_rules.cli import main
from dossier_rules.packs import load_packs
from dossier_rules.testing import run_tests
from dossier_rules.trace import trace_dossier

from .conftest import MINI_PACK, candidate, write_pack

FEE_RULE = """
  - id: xx.fee-without-basis
    title: {ja: 算出基準なし, en: Fee without basis}
    article: "{acts}(e)"
    applies_to: candidate
    severity: warn
    for_each: {in: fees, as: fee}
    when:
      all:
        - {field: fee.amount, gt: 0}
        - {field: fee.basis_shown, eq: false}
    message: {ja: 基準なし, en: No basis}
    tests:
      - {name: fires, expect: fire, dossier: {fees: [{amount: 10, basis_shown: false}]}}
      - {name: no fees at all, expect: pass, dossier: {fees: []}}
"""


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def missing(directory: Path) -> set[tuple[str, str, bool]]:
    run = run_tests(load_packs(directory))
    return {(rule.id, node, result) for rule, node, result in run.branches.missing()}


def test_a_pass_case_with_no_fees_does_not_test_the_fee_conditions(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.rstrip("\n") + FEE_RULE)
    gaps = missing(tmp_path)
    # the rule passes, fires, and counts as covered rule-wise, but no case made a fee comparison false
    assert ("xx.fee-without-basis", "fee.amount > 0", False) in gaps
    assert ("xx.fee-without-basis", "fee.basis_shown == false", False) in gaps
    assert ("xx.fee-without-basis", "(fee.amount > 0 AND fee.basis_shown == false)", False) in gaps
    assert not {g for g in gaps if g[0] == "xx.fee-without-basis" and g[2]}  # every true outcome was seen
    better = FEE_RULE + "      - {name: fee with basis, expect: pass, dossier: {fees: [{amount: 10, basis_shown: true}]}}\n"
    better += "      - {name: free, expect: pass, dossier: {fees: [{amount: 0, basis_shown: false}]}}\n"
    write_pack(tmp_path, "xx.yaml", MINI_PACK.rstrip("\n") + better)
    assert not {g for g in missing(tmp_path) if g[0] == "xx.fee-without-basis"}


def test_each_any_member_needs_both_outcomes(tmp_path: Path) -> None:
    text = MINI_PACK.replace("      missing: certificate\n", "      any: [{missing: certificate}, {field: residence, eq: japan}]\n")
    write_pack(tmp_path, "xx.yaml", text)
    gaps = missing(tmp_path)
    assert ("xx.no-certificate", "residence == 'japan'", True) in gaps  # no case has a candidate in Japan
    # where 'missing: certificate' was true, the any was decided: the second member was never evaluated
    assert ("xx.no-certificate", "certificate is missing", True) not in gaps


def test_coverage_min_fails_below_the_threshold(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.rstrip("\n") + FEE_RULE)
    below = cli("packs", "coverage", "--packs", str(tmp_path), "--min", "100")
    assert below.exit_code == 1 and "never false: fee.amount > 0" in below.output and "below the minimum of 100%" in below.stderr
    above = cli("packs", "coverage", "--packs", str(tmp_path), "--min", "50")
    assert above.exit_code == 0 and "condition outcomes exercised" in above.output
    tested = cli("packs", "test", "--packs", str(tmp_path))
    assert "branches: " in tested.output


DEPENDENTS_RULE = """
  - id: xx.many-accompanying
    title: {ja: 同伴家族が多い, en: Many accompanying dependents}
    article: "{acts}(a)"
    applies_to: candidate
    severity: info
    when:
      count: {in: dependents, as: d, where: {field: d.accompanying, eq: true}}
      ge: 2
    message: {ja: 家族, en: Dependents}
    tests:
      - {name: two accompanying, expect: fire, dossier: {dependents: [{relation: child, accompanying: true}, {relation: spouse, accompanying: true}]}}
      - {name: none, expect: pass, dossier: {dependents: []}}
"""


def test_an_aggregates_where_is_part_of_the_tree_for_coverage_and_trace(tmp_path: Path) -> None:
    """Trace, branch coverage, outline and registries_used all walk Node.children(): an aggregate's where counts."""
    write_pack(tmp_path, "xx.yaml", MINI_PACK.rstrip("\n") + DEPENDENTS_RULE)
    gaps = missing(tmp_path)
    # the where was only ever true (both dependents accompany; the pass case has none): its false outcome is missing
    assert ("xx.many-accompanying", "d.accompanying == true", False) in gaps
    assert ("xx.many-accompanying", "d.accompanying == true", True) not in gaps
    better = DEPENDENTS_RULE + "      - {name: one stays, expect: pass, dossier: {dependents: [{relation: child, accompanying: false}]}}\n"
    write_pack(tmp_path, "xx.yaml", MINI_PACK.rstrip("\n") + better)
    assert not {g for g in missing(tmp_path) if g[0] == "xx.many-accompanying"}
    pack = load_packs(tmp_path).packs["xx"]
    dossier = candidate(dependents=[{"relation": "child", "accompanying": False}, {"relation": "spouse", "accompanying": True}])
    (rule_trace,) = trace_dossier(pack, dossier, date(2025, 3, 1), None, "xx.many-accompanying")
    (step,) = rule_trace.steps
    assert step.result is False and step.values == {"COUNT(d IN dependents WHERE d.accompanying == true)": 1}
    assert [(c.item, c.key, c.result) for c in step.children] == [("/dependents/0", "where", False), ("/dependents/1", "where", True)]
