"""The engine: findings, evidence pointers, messages, pack status, determinism."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from dossier_rules.engine import Engine
from dossier_rules.model import DOSSIER_ADAPTER
from dossier_rules.packs import load_packs
from dossier_rules.problems import InputError

from .conftest import MINI_PACK, RULES, candidate, sample, write_pack


def rule_ids(report) -> list[str]:
    return [f.rule_id for f in report.findings]


def test_clean_dossiers_have_no_findings(engine: Engine) -> None:
    for name in (
        "kh-candidate-clean.json",
        "la-candidate-clean.json",
        "kg-candidate-clean.json",
        "pk-candidate-clean-no-certificate.json",
        "la-broker-clean.json",
    ):
        report = engine.evaluate(DOSSIER_ADAPTER.validate_python(sample(name)))
        assert report.findings == [], name
        assert report.pack_status.state == "in_force"


def test_finding_carries_article_severity_share_and_evidence(engine: Engine) -> None:
    report = engine.evaluate(DOSSIER_ADAPTER.validate_python(sample("kh-candidate-abroad-no-agency.json")))
    (fee,) = [f for f in report.findings if f.rule_id == "common.act-e-fee-without-basis"]
    assert (fee.article, fee.severity, fee.share, fee.act, fee.pack) == ("MOC-KH 4(1)(e)", "warn", True, "e", "common")
    assert fee.evidence["/fees/0/amount"] == 3200
    assert fee.evidence["/fees/0/basis_shown"] is False
    assert fee.evidence["/languages"] == ["km"]
    assert "3,200 USD" in fee.message.en and "Mekong Example Recruiting" in fee.message.en
    assert "3,200 USD" in fee.message.ja


def test_for_each_reports_one_finding_per_item_with_its_index(engine: Engine) -> None:
    report = engine.evaluate(DOSSIER_ADAPTER.validate_python(sample("kh-candidate-abroad-no-agency.json")))
    (held,) = [f for f in report.findings if f.rule_id == "common.act-a-property-held"]
    (passport,) = [f for f in report.findings if f.rule_id == "common.act-c-identity-document-held"]
    assert (next(iter(passport.evidence)), passport.item) == ("/held_property/0/item", "/held_property/0")
    assert (next(iter(held.evidence)), held.item) == ("/held_property/1/item", "/held_property/1")
    assert "land title" in held.message.en and "土地の権利証" in held.message.ja


def test_missing_values_read_as_not_provided(engine: Engine) -> None:
    dossier = candidate("KH", residence="abroad", hire_route="direct")
    report = engine.evaluate(dossier)
    (cert,) = [f for f in report.findings if f.rule_id == "kh.certificate-missing"]
    assert cert.evidence == {"/certificate": None, "/residence": "abroad"}


def test_country_differences(engine: Engine) -> None:
    in_japan = engine.evaluate(DOSSIER_ADAPTER.validate_python(sample("kh-candidate-in-japan-direct-hire.json")))
    assert in_japan.findings == []
    abroad = engine.evaluate(DOSSIER_ADAPTER.validate_python(sample("kh-candidate-abroad-no-agency.json")))
    assert {"kh.certificate-missing", "kh.abroad-without-sending-agency"} <= set(rule_ids(abroad))
    for country in ("LA", "KG", "PK"):
        bare = engine.evaluate(candidate(country, residence="abroad", hire_route="direct", status_sought="SSW1"))
        assert bare.findings == [], country


def codes(report) -> list[str]:
    return [w.code for w in report.data_warnings]


def test_tajik_pack_status_is_reported_not_passed(engine: Engine) -> None:
    report = engine.evaluate(DOSSIER_ADAPTER.validate_python(sample("tj-candidate-clean.json")))
    assert report.pack_status.state == "start_unknown" and report.pack_status.start == "unknown"
    assert report.findings == [] and report.counts == {"block": 0, "warn": 0, "info": 0}
    (status,) = report.data_warnings
    assert status.code == "pack-not-in-force" and "none blocks and none is shared" in status.message.en
    assert "article" not in status.model_dump()


def test_a_moc_not_in_force_blocks_nothing_and_shares_nothing(engine: Engine) -> None:
    """Acts found under a MOC that is not in force are shown, but carry no MOC effect, and each says why."""
    data = sample("kh-candidate-abroad-no-agency.json")
    in_force = engine.evaluate(DOSSIER_ADAPTER.validate_python(data))
    assert in_force.counts["block"] > 0 and any(f.share for f in in_force.findings)
    assert all(f.limited is None and f.rule_severity is None for f in in_force.findings)
    before = engine.evaluate(DOSSIER_ADAPTER.validate_python(data), as_of=date(2019, 3, 24))
    assert before.pack_status.state == "not_yet_in_force" and codes(before) == ["pack-not-in-force"]
    assert rule_ids(before) == rule_ids(in_force)
    assert before.counts["block"] == 0 and not any(f.share for f in before.findings)
    limited = [f for f in before.findings if f.limited is not None]
    assert {f.rule_id for f in limited} == {f.rule_id for f in in_force.findings if f.severity == "block" or f.share}
    assert all(f.rule_severity in ("block", "warn") and "not in force" in f.limited.en for f in limited)
    assert "参考" in limited[0].limited.ja


def test_tajik_acts_are_not_shared_while_the_start_is_unknown(engine: Engine) -> None:
    data = sample("tj-candidate-clean.json")
    data["held_property"] = [{"item": "deposit", "amount": 500, "currency": "USD", "holder": {"name": "Broker", "role": "intermediary"}}]
    report = engine.evaluate(DOSSIER_ADAPTER.validate_python(data))
    (held,) = [f for f in report.findings if f.rule_id.startswith("common.act-a")]
    assert (held.share, held.limited is not None) == (False, True)
    assert held.severity != "block"


@pytest.mark.parametrize(
    ("name", "start"),
    [
        ("kh-candidate-clean.json", "assumed"),
        ("pk-candidate-clean-no-certificate.json", "assumed"),
        ("la-candidate-clean.json", "stated"),
        ("kg-candidate-clean.json", "assumed"),
    ],
)
def test_a_start_from_signature_is_stated_as_an_assumption_where_the_text_has_no_start_clause(engine: Engine, name: str, start: str) -> None:
    """KH and PK have no start clause; KG was signed on two dates: each start date is the pack's reading, and says so."""
    report = engine.evaluate(DOSSIER_ADAPTER.validate_python(sample(name)))
    assert report.pack_status.state == "in_force" and report.pack_status.start == start
    assert codes(report) == (["pack-start-assumed"] if start == "assumed" else [])
    if start == "assumed":
        assert "this pack's reading" in report.data_warnings[0].message.en and "パックの解釈" in report.data_warnings[0].message.ja


@pytest.mark.parametrize(
    ("as_of", "state"),
    [(date(2019, 12, 31), "not_yet_in_force"), (date(2020, 1, 1), "in_force"), (date(2026, 5, 31), "in_force"), (date(2026, 6, 1), "ended")],
)
def test_pack_status_boundaries(tmp_path: Path, as_of: date, state: str) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace('starts_on: "2020-01-01"', 'starts_on: "2020-01-01", ends_on: "2026-06-01"'))
    report = Engine(load_packs(tmp_path)).evaluate(candidate("KH", certificate={"number": "C"}), as_of=as_of)
    assert report.pack_status.state == state
    assert ("pack-not-in-force" in codes(report)) == (state != "in_force")
    dossier = candidate("KH")
    (finding,) = Engine(load_packs(tmp_path)).evaluate(dossier, as_of=as_of).findings
    assert finding.severity == ("block" if state == "in_force" else "warn")


def test_as_of_defaults_to_submitted_and_can_be_overridden(engine: Engine) -> None:
    dossier = DOSSIER_ADAPTER.validate_python(sample("kh-candidate-revoked-agency.json"))
    assert engine.evaluate(dossier).as_of == date(2025, 8, 20)
    assert "kh.agency-accreditation-revoked" in rule_ids(engine.evaluate(dossier))
    assert "kh.agency-accreditation-revoked" not in rule_ids(engine.evaluate(dossier, as_of=date(2025, 6, 30)))


def test_rules_apply_only_to_their_kind(engine: Engine) -> None:
    report = engine.evaluate(DOSSIER_ADAPTER.validate_python(sample("kh-broker-revoked.json")))
    assert rule_ids(report) == ["kh.broker-accreditation-revoked", "kh.broker-revoked-on-list"]


def test_report_names_packs_with_versions_and_hashes(engine: Engine) -> None:
    report = engine.evaluate(DOSSIER_ADAPTER.validate_python(sample("la-candidate-clean.json")))
    assert [p.id for p in report.packs] == ["common", "la-kg-tj", "kh-la-kg-tj", "la"]
    written = {p.id: yaml.safe_load((RULES / f"{p.id}.yaml").read_text())["pack"]["version"] for p in report.packs}
    assert all(len(p.sha256) == 64 and p.version == written[p.id] for p in report.packs)


def test_evaluation_is_deterministic(engine: Engine) -> None:
    dossier = DOSSIER_ADAPTER.validate_python(sample("pk-candidate-false-documents.json"))
    first = engine.evaluate(dossier, source="a").model_dump_json(exclude={"generated_at"})
    second = engine.evaluate(dossier, source="a").model_dump_json(exclude={"generated_at"})
    assert first == second
    assert engine.evaluate(dossier, timestamp=False).generated_at is None


def test_no_pack_for_country(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK)
    with pytest.raises(InputError) as info:
        Engine(load_packs(tmp_path)).evaluate(candidate("PK"), source="p.json")
    (problem,) = info.value.problems
    assert problem.kind == "no_pack" and problem.pointer == "/country" and "KH" in problem.message
