"""The shipped packs: every rule tested both ways, and the provision matrix complete and current."""

from __future__ import annotations

import pytest

from dossier_rules import coverage
from dossier_rules.packs import PackSet, load_packs
from dossier_rules.testing import run_tests

from .conftest import ROOT, RULES


def test_every_rule_case_passes_and_every_rule_is_covered_both_ways(packset: PackSet) -> None:
    run = run_tests(packset)
    assert [str(f) for f in run.failures] == []
    assert run.uncovered == []
    rules = {rule.id for source in packset.sources.values() for rule in source.rules}
    assert {rule for _, rule in run.coverage} == rules


@pytest.mark.parametrize("pack", sorted(load_packs(RULES).packs))
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


def test_article_titles_follow_each_countrys_text(packset: PackSet) -> None:
    """LA/KG/TJ share article numbers, not wording: LA 8 has no temporary passports and LA 10 no end or
    disputes clause; TJ 9 has no review; KH and PK have no start clause."""
    titles = {(pack.country, article.split(" ", 1)[1]): entry.title.en for pack in packset.packs.values() for article, entry in pack.inventory()}
    assert "temporary passports" in titles[("KG", "8")] and "temporary passports" in titles[("TJ", "8")]
    assert "temporary passports" not in titles[("LA", "8")]
    assert "end" in titles[("KG", "10")] and "disputes" in titles[("TJ", "10")]
    assert "disputes" not in titles[("LA", "10")] and " end" not in titles[("LA", "10")]
    assert "Review" in titles[("KG", "9")] and "Review" in titles[("LA", "9")] and "no review" in titles[("TJ", "9")]
    assert "notice of completed domestic procedures" in titles[("TJ", "10")]
    assert all("assumed" in titles[key] for key in (("KH", "10"), ("PK", "9")))


def test_reports_to_the_partner_are_encoded_under_the_article_that_runs_from_japan(packset: PackSet) -> None:
    text = coverage.markdown(packset)
    assert "| MOC-KH 5(5) | Investigation of an agency reported by Japan" in text and "`kh.agency-revoked-report` (warn, shared)" in text
    for country in ("LA", "KG", "TJ"):
        row = next(line for line in text.splitlines() if line.startswith(f"| MOC-{country} 7(3) |"))
        assert "`la-kg-tj.agency-revoked-on-list` (warn, shared)" in row and "not checkable" not in row
    shared_revocations = {r.article for p in packset.packs.values() for r in p.rules if r.rule.spec.share and r.rule.spec.share.act == "revocation"}
    assert {"MOC-KH 5(5)", "MOC-LA 7(3)", "MOC-KG 7(3)", "MOC-TJ 7(3)"} <= shared_revocations
