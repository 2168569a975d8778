"""The shipped packs: every rule tested both ways, and the provision matrix complete and current."""

from __future__ import annotations

import pytest

from dossier_rules import coverage
from dossier_rules.packs import PackSet
from dossier_rules.testing import run_tests

from .conftest import ROOT


def test_every_rule_case_passes_and_every_rule_is_covered_both_ways(packset: PackSet) -> None:
    run = run_tests(packset)
    assert [str(f) for f in run.failures] == []
    assert run.uncovered == []
    rules = {rule.id for source in packset.sources.values() for rule in source.rules}
    assert {rule for _, rule in run.coverage} == rules


@pytest.mark.parametrize("pack", ["kh", "la", "kg", "tj", "pk"])
def test_each_pack_can_be_tested_alone(packset: PackSet, pack: str) -> None:
    run = run_tests(packset, [pack])
    assert {p for p, _ in run.coverage} == {pack} and run.ok


def test_a_failing_case_is_caught(packset: PackSet) -> None:
    """The runner must be able to fail: break a rule's expectation and watch it."""
    rule = packset.rule("kh.certificate-missing")
    original = rule.spec.tests[0].expect
    object.__setattr__(rule.spec.tests[0], "expect", "pass")
    try:
        run = run_tests(packset, ["kh"])
    finally:
        object.__setattr__(rule.spec.tests[0], "expect", original)
    assert [f.rule for f in run.failures] == ["kh.certificate-missing"]


def test_every_checkable_provision_is_encoded(packset: PackSet) -> None:
    assert coverage.unencoded(packset) == []


def test_provision_matrix_is_current(packset: PackSet) -> None:
    checked_in = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
    assert checked_in == coverage.markdown(packset), "run: dossier-rules packs coverage"


def test_matrix_lists_every_moc_and_explains_the_unencodable(packset: PackSet) -> None:
    text = coverage.markdown(packset)
    assert packset.countries
    for country in packset.countries:
        assert f"## {country}:" in text
    assert "| MOC-KH 5(3) |" in text and "`kh.certificate-missing`" in text
    assert "| MOC-PK 8 | Settlement of disputes" in text and "not checkable" in text
