"""What the MOC texts decide, end to end: who is an intermediary, what an older list can prove, the basis and
effect of findings, and each text's own wording. The rule-by-rule cases are in the packs (``packs test``);
these check the pieces of the engine the packs rely on, on all evaluators."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dossier_rules import conditions as cond
from dossier_rules.batch import record_digest
from dossier_rules.engine import Engine
from dossier_rules.model import DOSSIER_ADAPTER, CandidateDossier
from dossier_rules.packs import PackSet
from dossier_rules.registries import LoadedRegistry, Registries, Registry, index_entries
from dossier_rules.sharing import Outbox, render
from dossier_rules.testing import lint

from .conftest import MINI_PACK, SAMPLES, candidate, write_pack

SCOPE = cond.Scope(cond.type_of_model(CandidateDossier))


class _View:
    """A registry view with one list, retrieved on ``retrieved``, holding one revoked entry."""

    def __init__(self, retrieved: date | None):
        self.retrieved = retrieved

    def retrieved_on(self, kind: str) -> date | None:
        return self.retrieved

    def revoked_before(self, kind: str, key: Any, day: date) -> bool:
        return key == "R-1" and date(2025, 1, 15) < day


def run(condition: dict[str, Any], dossier: dict[str, Any], retrieved: date | None = date(2025, 3, 1)) -> bool:
    node = cond.parse(condition, SCOPE)
    env = {cond.ROOT: dossier, "$as_of": date(2025, 3, 1), "$registries": _View(retrieved)}
    return bool(node.program()(env))


def test_among_matches_a_listed_party_by_id_else_by_name() -> None:
    among = {"field": "sending_agency", "among": "intermediaries"}
    listed = {"intermediaries": [{"id": "P-1", "name": "Uncle"}, {"name": "Mr. Fixer"}]}
    assert run(among, {**listed, "sending_agency": {"id": "P-1", "name": "Someone else"}})
    assert run(among, {**listed, "sending_agency": {"name": "MR. FIXER"}})
    assert not run(among, {**listed, "sending_agency": {"id": "P-2", "name": "Uncle"}}), "two ids that differ are two parties"
    assert not run(among, {"sending_agency": {"name": "Uncle"}}), "no list: not listed"
    assert not run(among, {**listed}), "no party: not listed"


def test_among_also_compares_with_one_named_party() -> None:
    same = {"field": "certificate", "among": "sending_agency"}
    with pytest.raises(cond.ConditionError, match="'among' compares a party"):
        cond.parse(same, SCOPE)
    node = cond.parse({"field": "sending_agency", "among": "sending_agency"}, SCOPE)
    assert isinstance(node, cond.Among) and node.one


def test_retrieved_compares_the_list_date_and_unknown_is_never_true() -> None:
    stale = {"retrieved": "accredited-agencies", "lt": {"var": "as_of", "offset": "-7d"}}
    current = {"retrieved": "accredited-agencies", "ge": {"var": "as_of", "offset": "-7d"}}
    assert run(stale, {}, date(2025, 2, 1)) and not run(current, {}, date(2025, 2, 1))
    assert run(current, {}, date(2025, 2, 26)) and not run(stale, {}, date(2025, 2, 26))
    assert not run(stale, {}, None) and not run(current, {}, None), "a list not loaded proves nothing either way"
    before_accreditation = {"retrieved": "accredited-agencies", "lt": {"field": "sending_agency.accreditation.valid_from"}}
    assert run(before_accreditation, {"sending_agency": {"accreditation": {"valid_from": "2025-02-28"}}}, date(2025, 2, 27))
    assert not run(before_accreditation, {"sending_agency": {}}, date(2025, 2, 27)), "no accreditation date: unknown"


def test_retrieved_and_revoked_before_are_checked_when_the_pack_loads() -> None:
    with pytest.raises(cond.ConditionError, match="unknown registry"):
        cond.parse({"retrieved": "accredited-agency", "lt": "2025-01-01"}, SCOPE)
    with pytest.raises(cond.ConditionError, match="cannot compare a date with a one of abroad, japan"):
        cond.parse({"retrieved": "accredited-agencies", "lt": {"field": "residence"}}, SCOPE)
    with pytest.raises(cond.ConditionError, match="before: needs a date"):
        cond.parse({"field": "sending_agency.id", "revoked_in": {"in": "accredited-agencies", "before": "residence"}}, SCOPE)
    with pytest.raises(cond.ConditionError, match="on: needs a date"):
        cond.parse({"field": "sending_agency.id", "not_listed_in": {"in": "accredited-agencies", "on": "residence"}}, SCOPE)
    with pytest.raises(cond.ConditionError, match=r"takes a registry, or \{in: REGISTRY, on: DATE_PATH\}"):
        cond.parse({"field": "sending_agency.id", "listed_in": {"in": "accredited-agencies", "before": "certificate.issue_date"}}, SCOPE)
    with pytest.raises(cond.ConditionError, match="unknown registry"):
        cond.parse({"field": "sending_agency.id", "never_listed_in": {"in": "accredited-agencies", "on": "certificate.issue_date"}}, SCOPE)


def test_revoked_before_needs_an_act_dated_after_the_revocation() -> None:
    revoked = {"field": "sending_agency.id", "revoked_in": {"in": "accredited-agencies", "before": "certificate.issue_date"}}
    assert run(revoked, {"sending_agency": {"id": "R-1"}, "certificate": {"issue_date": "2025-01-16"}})
    assert not run(revoked, {"sending_agency": {"id": "R-1"}, "certificate": {"issue_date": "2025-01-15"}}), "revoked that day: not before"
    assert not run(revoked, {"sending_agency": {"id": "R-1"}}), "no date: not shown"


def _kh_registry(retrieved: date) -> Registries:
    registry = Registry(kind="accredited-agencies", country="KH", source="test", retrieved_on=retrieved, entries=[])
    return Registries({("KH", "accredited-agencies"): LoadedRegistry(registry, Path("kh-accredited-agencies.json"), "x", index_entries(registry))})


@pytest.mark.parametrize("backend", ["native", "interpreted"])
def test_an_older_list_never_blocks_and_never_speaks_of_the_date_evaluated(packset: PackSet, backend: str) -> None:
    agency = {"name": "Agency", "role": "sending_agency", "accreditation": {"number": "MOLVT-ACC-9999", "valid_from": "2020-01-01"}}
    certificate = {"kind": "molvt_registration", "issuer": "MoLVT", "number": "C-1", "issue_date": "2025-01-20"}
    dossier = candidate(residence="abroad", hire_route="sending_agency", sending_agency=agency, certificate=certificate)
    old = Engine(packset, _kh_registry(date(2025, 2, 1)), backend=backend)  # type: ignore[arg-type]
    report = old.evaluate_data(dossier)
    ids = {f["rule_id"]: f for f in report["findings"]}
    assert "kh.agency-not-on-molvt-list" not in ids and report["outcome"] != "blocked"
    older = ids["kh.agency-not-on-older-molvt-list"]
    assert older["severity"] == "warn" and "基準日時点" not in older["message"]["ja"] and "評価日時点" not in older["message"]["ja"]
    current = Engine(packset, _kh_registry(date(2025, 2, 26)), backend=backend)  # type: ignore[arg-type]
    report = current.evaluate_data(dossier)
    assert report["outcome"] == "blocked"
    (block,) = [f for f in report["findings"] if f["rule_id"] == "kh.agency-not-on-molvt-list"]
    assert block["basis"]["article"] == "MOC-KH 5(2)"


def test_a_cambodian_in_japan_without_the_certificate_is_blocked_citing_6_1_first(engine: Engine) -> None:
    report = engine.evaluate_data(candidate(residence="japan", hire_route="direct", status_sought="SSW1", sector="agriculture"))
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "kh.certificate-missing"]
    assert finding["severity"] == "block" and finding["article"] == "MOC-KH 6(1)" and finding["also"] == ["MOC-KH 5(3)"]
    basis = finding["basis"]
    assert basis["article"] == "MOC-KH 6(1)"
    assert "居住地" not in basis["text"]["ja"], "6(1) says nothing of residence: the basis quotes only 6(1) and 5(3)"
    assert "出入国在留管理庁の案内" in basis["domestic"]["instrument"]["ja"], "that those in Japan submit it too is ISA's guidance"


def test_test_fraud_block_names_the_domestic_instrument_and_a_mere_report_is_a_warn(engine: Engine) -> None:
    shown = candidate("KG", status_sought="SSW1", tests=[{"kind": "skills", "certificate_forged_or_altered": True}])
    (block,) = [f for f in engine.evaluate_data(shown)["findings"] if f["rule_id"] == "common.test-fraud"]
    assert block["basis"]["article"] == "MOC-KG 5"
    assert "上陸基準省令" in block["basis"]["domestic"]["instrument"]["ja"]
    assert "4(1)の枠組みに準じ" in block["message"]["ja"], "LA/KG/TJ/PK share test fraud 「準じ」"
    reported = candidate("KG", status_sought="SSW1", tests=[{"kind": "skills", "impersonation_reported": True}])
    findings = engine.evaluate_data(reported)["findings"]
    assert [f["severity"] for f in findings if f["rule_id"].startswith("common.test-fraud")] == ["warn"]
    kh = candidate("KH", status_sought="SSW1", tests=[{"kind": "skills", "certificate_forged_or_altered": True}])
    (block,) = [f for f in engine.evaluate_data(kh)["findings"] if f["rule_id"] == "common.test-fraud"]
    assert "4(1)に定める枠組みに従って" in block["message"]["ja"]


@pytest.mark.parametrize(
    ("country", "words"),
    [
        ("KH", "その額及び内訳を理解させないで"),
        ("LA", "十分に理解させないで"),
        ("KG", "十分に理解させないで"),
        ("PK", "十分に理解させないで"),
        ("TJ", "十分に認識させないで"),
    ],
)
def test_act_e_is_quoted_in_each_text_s_own_words(engine: Engine, country: str, words: str) -> None:
    fee = {"payee": {"name": "Agency", "role": "sending_agency"}, "amount": 100, "currency": "USD", "basis_shown": False, "breakdown_explained": False}
    (finding,) = [
        f for f in engine.evaluate_data(candidate(country, fees=[fee]), as_of=date(2026, 1, 1))["findings"] if f["rule_id"] == "common.act-e-fee-without-basis"
    ]
    assert words in finding["message"]["ja"]
    if country == "KH":
        assert "十分に" not in finding["message"]["ja"]


@pytest.mark.parametrize("country", ["KH", "LA", "KG", "TJ"])
def test_a_penalty_contract_is_act_b_where_the_text_names_a_penalty(engine: Engine, country: str) -> None:
    clause = {"kind": "penalty", "concluded": True, "party": {"name": "Broker", "role": "intermediary"}}
    findings = engine.evaluate_data(candidate(country, contract_clauses=[clause]), as_of=date(2026, 1, 1))["findings"]
    (act,) = [f for f in findings if f["rule_id"] == "common.act-b-penalty-contract"]
    assert act["act"] == "b" and "違約金を課す契約" in act["message"]["ja"]
    assert ("署名すること" in act["message"]["ja"]) is (country == "TJ")
    assert not [f for f in findings if f["rule_id"].startswith("pk.")]


def test_pk_penalty_keeps_unlawful_and_is_a_doubt_unless_shown(engine: Engine) -> None:
    clause = {"kind": "penalty", "concluded": True, "party": {"name": "Promoter", "role": "intermediary"}}
    findings = engine.evaluate_data(candidate("PK", contract_clauses=[clause]))["findings"]
    (doubt,) = [f for f in findings if f["rule_id"] == "pk.act-b-penalty-not-shown-unlawful"]
    assert not doubt["share"] and "不法な金銭の支払" in doubt["message"]["ja"]
    assert "common.act-b-penalty-contract" not in {f["rule_id"] for f in findings}
    shown = engine.evaluate_data(candidate("PK", contract_clauses=[{**clause, "unlawful": True}]))["findings"]
    (act,) = [f for f in shown if f["rule_id"] == "common.act-b-penalty-contract"]
    assert act["share"] and "不法な金銭の支払" in act["message"]["ja"]


def test_a_relative_who_takes_a_placement_fee_and_signs_a_penalty_contract_is_not_clear(engine: Engine) -> None:
    relative = {"name": "Uncle Example", "role": "relative"}
    dossier = candidate(
        "LA",
        fees=[{"payee": relative, "amount": 2500, "currency": "USD", "purpose": "job introduction", "basis_shown": False, "breakdown_explained": False}],
        contract_clauses=[{"kind": "penalty", "concluded": True, "amount": 4000, "currency": "USD", "party": relative}],
    )
    report = engine.evaluate_data(dossier)
    assert report["outcome"] == "review"
    assert {"common.act-e-by-other-party", "common.act-b-party-unidentified"} <= {f["rule_id"] for f in report["findings"]}
    listed = engine.evaluate_data({**dossier, "intermediaries": [relative]})
    shared = {f["rule_id"] for f in listed["findings"] if f["share"]}
    assert {"common.act-e-fee-without-basis", "common.act-b-penalty-contract"} <= shared


def test_a_finding_without_moc_effect_reads_as_information_only(engine: Engine) -> None:
    fee = {"payee": {"name": "Agency", "role": "sending_agency"}, "amount": 100, "currency": "USD", "basis_shown": False, "breakdown_explained": False}
    report = engine.evaluate_data(candidate("LA", fees=[fee]), as_of=date(2022, 1, 1))
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "common.act-e-fee-without-basis"]
    assert finding["limited"] is not None and not finding["share"]
    assert "共有の対象" not in finding["message"]["ja"] and "share" not in finding["message"]["en"].lower()
    in_force = engine.evaluate_data(candidate("LA", fees=[fee]))
    (finding,) = [f for f in in_force["findings"] if f["rule_id"] == "common.act-e-fee-without-basis"]
    assert finding["message"]["ja"].endswith("相手国との情報共有の対象となります。")


def test_lint_requires_a_block_to_rest_on_text_that_makes_it_unacceptable(tmp_path: Path) -> None:
    no_domestic = MINI_PACK.replace(", domestic: {instrument: {ja: 法令, en: Act}, article: {ja: 第1条, en: art. 1}}", "")
    write_pack(tmp_path, "xx.yaml", no_domestic)
    (problem,) = lint([tmp_path])
    assert problem.rule == "xx.no-certificate" and "basis.domestic" in problem.message
    accepting = no_domestic.replace(
        '  provisions: {acts: "4(1)"}\n',
        '  provisions: {acts: "4(1)"}\n  articles: [{article: "{acts}(a)", title: {ja: 行為, en: Act}, acceptance: {ja: 受け入れない, en: Not accepted}}]\n',
    )
    write_pack(tmp_path, "xx.yaml", accepting)
    assert lint([tmp_path]) == []


def test_lint_requires_an_effect_for_block_and_shared_rules(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("    effect: {ja: 不適合です。, en: It does not meet the standards.}\n", ""))
    (problem,) = lint([tmp_path])
    assert "needs 'effect'" in problem.message


def test_kg_start_is_marked_as_the_pack_s_reading(engine: Engine) -> None:
    report = engine.evaluate_data(candidate("KG"))
    assert report["pack_status"]["start"] == "assumed"
    assert "パックの解釈" in report["pack_status"]["detail"]["ja"] and "reading" in report["pack_status"]["detail"]["en"]


def test_notices_show_a_block_s_basis_and_name_act_b_in_pakistan_s_words(packset: PackSet, engine: Engine, tmp_path: Path) -> None:
    reports = tmp_path / "reports.jsonl"
    with reports.open("w", encoding="utf-8") as out:
        for name in ("kg-candidate-test-fraud.json", "pk-broker-penalty-contracts.json"):
            source = SAMPLES / name
            report = engine.evaluate(DOSSIER_ADAPTER.validate_python(json.loads(source.read_text(encoding="utf-8"))), source=str(source))
            report.source_sha256 = record_digest(source.read_bytes())
            out.write(report.model_dump_json() + "\n")
    with Outbox(tmp_path / "o.sqlite") as box:
        box.build(packset, [reports], with_personal_data=False)
        found = [box.notice(row["id"]) for row in box.notices()]
    markdown = "\n".join(render(n, "md") for n in found if n.act == "test_fraud")
    assert "Basis: MOC-KG 5; Ministerial Ordinance" in markdown and "上陸基準省令" in markdown
    (pk,) = [n for n in found if n.country == "PK" and n.act == "b"]
    assert "不法な金銭の支払" in pk.act_title.ja and "unlawful payment" in pk.act_title.en
