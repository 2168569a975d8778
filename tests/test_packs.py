"""The pack loader: safe YAML, located errors of every kind, extends and per-country articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from dossier_rules.packs import PackSet, load_pack_file, load_packs, merge_patch
from dossier_rules.problems import InputError, Problem
from dossier_rules.testing import lint

from .conftest import MINI_PACK, RULES, write_pack


def problems_of(directory: Path) -> list[Problem]:
    with pytest.raises(InputError) as info:
        load_packs(directory)
    return info.value.problems


def test_mini_pack_loads(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK)
    packset = load_packs(tmp_path)
    (rule,) = packset.packs["xx"].rules
    assert rule.article == "MOC-KH 4(1)(a)"


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("  version: 1.0.0", "  version: [1.0.0"))
    (problem,) = problems_of(tmp_path)
    assert problem.source.endswith("xx.yaml") and problem.kind == "syntax" and problem.line is not None
    assert "invalid YAML" in problem.message


def test_duplicate_key_is_rejected_with_both_lines(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("  version: 1.0.0\n", "  version: 1.0.0\n  version: 1.0.1\n"))
    (problem,) = problems_of(tmp_path)
    assert problem.line == 4
    assert "duplicate key 'version' (first at line 3)" in problem.message


def test_python_objects_in_yaml_are_refused(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("version: 1.0.0", "version: !!python/object/apply:os.system ['true']"))
    (problem,) = problems_of(tmp_path)
    assert problem.kind == "syntax" and "python/object" in problem.message


def test_yaml_11_booleans_and_dates_stay_strings(tmp_path: Path) -> None:
    text = MINI_PACK.replace("place: Tokyo", "place: no")
    write_pack(tmp_path, "xx.yaml", text)
    packset = load_packs(tmp_path)
    assert packset.packs["xx"].moc.signed[0].place == "no"


def test_schema_error_names_the_line_and_pointer(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("    severity: block", "    severity: fatal"))
    (problem,) = problems_of(tmp_path)
    assert problem.pointer == "/rules/0/severity"
    assert problem.line == 20
    assert "'fatal'" in problem.message


def test_unknown_key_in_a_rule_is_reported(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("    severity: block", "    severity: block\n    severty: warn"))
    (problem,) = problems_of(tmp_path)
    assert "severty" in problem.message and problem.pointer == "/rules/0"


def test_anyof_errors_report_the_closest_alternative(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("partner_ministry: {ja: 省, en: Ministry}", "partner_ministry: {ja: 省}"))
    (problem,) = problems_of(tmp_path)
    assert "'en' is a required property" in problem.message


def test_condition_error_names_file_line_and_rule(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("missing: certificate\n", "missing: certficate\n"))
    (problem,) = problems_of(tmp_path)
    assert (problem.rule, problem.line) == ("xx.no-certificate", 22)
    assert "did you mean 'certificate'" in problem.message
    assert str(problem).startswith(str(tmp_path / "xx.yaml") + ":22: [rule xx.no-certificate]")


def test_unknown_paths_in_evidence_and_messages_are_pack_errors(tmp_path: Path) -> None:
    text = MINI_PACK.replace("evidence: [certificate]", "evidence: [certificat]").replace("({residence})", "({residense})")
    write_pack(tmp_path, "xx.yaml", text)
    messages = sorted(p.message for p in problems_of(tmp_path))
    assert messages[0].startswith("evidence: unknown field 'certificat'")
    assert messages[1].startswith("message.en: unknown field 'residense'")


def test_every_rule_needs_tests_both_ways(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("      - {name: passes, expect: pass, dossier: {certificate: {number: C-1}}}\n", ""))
    (problem,) = problems_of(tmp_path)
    assert "none that pass" in problem.message and problem.rule == "xx.no-certificate"


def test_rule_id_must_carry_the_pack_id(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("id: xx.no-certificate", "id: yy.no-certificate"))
    (problem,) = problems_of(tmp_path)
    assert "must start with the pack id 'xx.'" in problem.message


def test_duplicate_rule_ids_are_rejected(tmp_path: Path) -> None:
    rule = MINI_PACK.split("rules:\n")[1]
    write_pack(tmp_path, "xx.yaml", MINI_PACK + rule)
    (problem,) = problems_of(tmp_path)
    assert "duplicate rule id" in problem.message


def test_unknown_extends_and_undefined_provision(tmp_path: Path) -> None:
    write_pack(
        tmp_path, "xx.yaml", MINI_PACK.replace("  country: KH", "  country: KH\n  extends: [nowhere]").replace('provisions: {acts: "4(1)"}', "provisions: {}")
    )
    messages = " | ".join(p.message for p in problems_of(tmp_path))
    assert "extends unknown pack 'nowhere'" in messages
    assert "{acts}" in messages and "does not define" in messages


def test_extends_cycle_is_reported(tmp_path: Path) -> None:
    base = "pack: {id: %s, version: 1.0.0, abstract: true, extends: [%s], title: {ja: a, en: a}}\n"
    write_pack(tmp_path, "a.yaml", base % ("a", "b"))
    write_pack(tmp_path, "b.yaml", base % ("b", "a"))
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("  country: KH", "  country: KH\n  extends: [a]"))
    assert any("cycle" in p.message for p in problems_of(tmp_path))


def test_a_broken_parent_is_reported_once_not_as_unknown(tmp_path: Path) -> None:
    write_pack(tmp_path, "base.yaml", "pack: {id: base, version: 1.0.0, abstract: true, title: {ja: a}}\n")
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("  country: KH", "  country: KH\n  extends: [base]"))
    messages = [p.message for p in problems_of(tmp_path)]
    assert any("failed to load" in m for m in messages)
    assert not any("unknown pack" in m for m in messages)


def test_two_packs_for_one_country_are_rejected(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK)
    write_pack(tmp_path, "yy.yaml", MINI_PACK.replace("id: xx", "id: yy").replace("xx.no-certificate", "yy.no-certificate"))
    assert any("already has pack" in p.message for p in problems_of(tmp_path))


def test_concrete_pack_needs_country_and_moc(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", "pack: {id: xx, version: 1.0.0, title: {ja: a, en: a}}\n")
    messages = [p.message for p in problems_of(tmp_path)]
    assert any("pack.country" in m for m in messages) and any("pack.moc" in m for m in messages)


def test_a_packs_currency_must_be_an_iso_4217_code(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("  country: KH\n", "  country: KH\n  currency: ABC\n"))
    line = (tmp_path / "xx.yaml").read_text(encoding="utf-8").splitlines().index("  currency: ABC") + 1
    (problem,) = problems_of(tmp_path)
    assert problem.line == line and problem.pointer == "/pack/currency" and "'ABC' is not an ISO 4217 currency code" in problem.message
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("  country: KH\n", "  country: KH\n  currency: usd\n"))
    (problem,) = problems_of(tmp_path)
    assert problem.line == line and problem.pointer == "/pack/currency"
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("  country: KH\n", "  country: KH\n  currency: CHF\n"))
    assert load_packs(tmp_path).packs["xx"].meta.currency == "CHF"
    write_pack(tmp_path, "xx.yaml", "pack: {id: xx, version: 1.0.0, abstract: true, currency: USD, title: {ja: a, en: a}}\n")
    (problem,) = problems_of(tmp_path)
    assert "an abstract pack has no country, country_name, currency" in problem.message


def test_empty_file_and_missing_directory(tmp_path: Path) -> None:
    (tmp_path / "xx.yaml").write_text("  \n")
    (problem,) = problems_of(tmp_path)
    assert problem.kind == "empty"
    (problem,) = problems_of(tmp_path / "nope")
    assert problem.kind == "not_found"


def test_lint_reports_invalid_test_dossiers(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("dossier: {certificate: {number: C-1}}", "dossier: {certificate: {number: 7}}"))
    (problem,) = lint([tmp_path / "xx.yaml"])
    assert problem.pointer == "/certificate/number" and problem.line is not None


def test_cited_article_must_be_in_the_article_list(tmp_path: Path) -> None:
    text = MINI_PACK.replace('provisions: {acts: "4(1)"}', 'provisions: {acts: "4(1)"}\n  articles: [{article: "4(1)(b)", title: {ja: b, en: b}}]')
    write_pack(tmp_path, "xx.yaml", text)
    (problem,) = problems_of(tmp_path)
    assert "cites MOC-KH 4(1)(a), which is not in the article list" in problem.message


def test_shipped_packs_lint_clean() -> None:
    assert lint([RULES]) == []


def test_common_rules_cite_each_countrys_own_articles(packset: PackSet) -> None:
    def article(pack: str, rule: str) -> str:
        return next(r.article for r in packset.packs[pack].rules if r.rule.id == rule)

    assert {p: article(p, "common.act-e-fee-without-basis") for p in packset.packs} == {
        p.id: f"MOC-{p.country} {p.provisions()['information_sharing']}(e)" for p in packset.packs.values()
    }
    assert {article(p, "common.act-e-fee-without-basis") for p in ("kh", "la", "kg", "tj", "pk")} == {
        f"MOC-{p.upper()} 4(1)(e)" for p in ("kh", "la", "kg", "tj", "pk")
    }
    assert article("kh", "common.test-fraud") == "MOC-KH 7"
    assert {article(p, "common.test-fraud") for p in ("la", "kg", "tj", "pk")} == {f"MOC-{p.upper()} 5" for p in ("la", "kg", "tj", "pk")}
    assert article("pk", "common.dependents-need-ssw2") == "MOC-PK 6"
    assert {article(p, "common.dependents-need-ssw2") for p in ("kh", "la", "kg", "tj")} == {f"MOC-{p.upper()} 8" for p in ("kh", "la", "kg", "tj")}


def test_pakistan_gets_no_sending_country_rules(packset: PackSet) -> None:
    """PK's own rules are only its wording of 4(1)(b) (an unlawful payment); nothing on accreditation or certificates."""
    rules = packset.packs["pk"].rules
    assert {r.rule.pack_id for r in rules} == {"common", "pk"}
    assert {r.article for r in rules if r.rule.pack_id == "pk"} == {"MOC-PK 4(1)(b)"}


def test_cambodias_own_rules_apply_to_cambodia_only(packset: PackSet) -> None:
    """Cambodia's MoLVT certificate and list rules (kh.yaml) never screen a dossier of another country."""
    cambodia = packset.for_country("KH")
    assert cambodia is not None and any("certificate" in r.rule.id for r in cambodia.rules if r.rule.pack_id == "kh")
    others = [pack for pack in packset.packs.values() if pack.country != "KH"]
    assert others
    for pack in others:
        assert not [r.rule.id for r in pack.rules if r.rule.pack_id == "kh"], pack.id


def test_confidentiality_scope_is_stricter_for_pakistan(packset: PackSet) -> None:
    scopes = {p.country: p.moc.confidentiality.scope for p in packset.packs.values()}
    assert scopes["PK"] == "anyone"  # PK 7: no disclosure to anyone without written consent
    assert all(scopes[country] == "third_parties" for country in ("KH", "LA", "KG", "TJ"))


def test_pack_file_hash_changes_with_content(tmp_path: Path) -> None:
    first = load_pack_file(write_pack(tmp_path, "xx.yaml", MINI_PACK)).sha256
    second = load_pack_file(write_pack(tmp_path, "xx.yaml", MINI_PACK + "\n# comment\n")).sha256
    assert first != second and len(first) == 64


def test_merge_patch_follows_rfc_7386() -> None:
    target = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2]}
    assert merge_patch(target, {"b": {"c": None, "x": 9}, "e": [3], "a": None}) == {"b": {"d": 3, "x": 9}, "e": [3]}
    assert target == {"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2]}


BASIS_LINE = (
    '    basis: {article: "{acts}(a)", text: {ja: 根拠の条文, en: The text that makes it blocking}, '
    "domestic: {instrument: {ja: 法令, en: Act}, article: {ja: 第1条, en: art. 1}}}\n"
)


def test_lint_refuses_a_block_rule_without_its_textual_basis(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace(BASIS_LINE, ""))
    (problem,) = lint([tmp_path])
    assert problem.rule == "xx.no-certificate" and problem.line == 20
    assert "block rule needs 'basis'" in problem.message
    write_pack(tmp_path, "xx.yaml", MINI_PACK)
    assert lint([tmp_path]) == []


def test_basis_belongs_to_block_rules_and_cites_an_article_of_the_rule(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("    severity: block", "    severity: warn"))
    (problem,) = lint([tmp_path])
    assert "a warn rule has none" in problem.message
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace('basis: {article: "{acts}(a)"', 'basis: {article: "{acts}(b)"'))
    (problem,) = lint([tmp_path])
    assert "must be the rule's article or one of its 'also'" in problem.message


def test_every_shipped_block_rule_names_its_basis_and_no_act_of_4_1_blocks(packset: PackSet) -> None:
    for pack in packset.packs.values():
        for resolved in pack.rules:
            spec = resolved.rule.spec
            if spec.severity == "block":
                assert spec.basis is not None, spec.id
            if spec.share and spec.share.act in ("a", "b", "c", "d", "e", "revocation"):
                assert spec.severity == "warn", spec.id
