"""The command line: exit codes, output formats, bad inputs among good ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier_rules.cli import main
from dossier_rules.packs import load_packs

from .conftest import MINI_PACK, RULES, SAMPLES, write_pack


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


@pytest.fixture()
def mixed(tmp_path: Path) -> Path:
    """A clean dossier, a dossier with block findings, and every kind of bad file."""
    shutil.copy(SAMPLES / "kh-candidate-clean.json", tmp_path / "a-clean.json")
    shutil.copy(SAMPLES / "kh-candidate-abroad-no-agency.json", tmp_path / "b-findings.json")
    (tmp_path / "c-broken.json").write_text('{"dossier_id": ')
    (tmp_path / "d-empty.json").write_text("")
    bad = json.loads((SAMPLES / "la-candidate-clean.json").read_text())
    bad["fees"][0]["amount"] = "lots"
    (tmp_path / "e-schema.json").write_text(json.dumps(bad))
    shutil.copy(SAMPLES / "pk-candidate-clean-no-certificate.json", tmp_path / "f-clean.json")
    return tmp_path


def test_clean_file_exits_0() -> None:
    result = invoke("check", str(SAMPLES / "kh-candidate-clean.json"))
    assert result.exit_code == 0, result.output
    assert "KH-CAND-0001" in result.output and "no findings" in result.output


def test_block_finding_exits_1_and_fail_on_moves_the_threshold() -> None:
    blocked = str(SAMPLES / "kh-candidate-abroad-no-agency.json")
    warned = str(SAMPLES / "tj-candidate-dependents-ssw1.json")
    assert invoke("check", blocked).exit_code == 1
    assert invoke("check", blocked, "--fail-on", "never").exit_code == 0
    assert invoke("check", warned).exit_code == 0
    assert invoke("check", warned, "--fail-on", "warn").exit_code == 1


def test_bad_files_among_good_ones_are_all_reported(mixed: Path) -> None:
    result = invoke("check", str(mixed), "--format", "jsonl")
    assert result.exit_code == 2
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [Path(r["source"]).name for r in records] == sorted(p.name for p in mixed.glob("*.json"))
    by_name = {Path(r["source"]).name: r for r in records}
    assert by_name["a-clean.json"]["findings"] == [] and by_name["f-clean.json"]["findings"] == []
    assert by_name["b-findings.json"]["counts"]["block"] >= 2
    assert by_name["c-broken.json"]["errors"][0]["kind"] == "syntax"
    assert by_name["d-empty.json"]["errors"][0]["kind"] == "empty"
    assert by_name["e-schema.json"]["errors"][0]["pointer"] == "/fees/0/amount"


def test_json_format_has_results_in_order_and_a_summary(mixed: Path) -> None:
    result = invoke("check", str(mixed), "--format", "json")
    payload = json.loads(result.output)
    assert payload["summary"] == {"records": 6, "evaluated": 3, "errors": 3, "findings": payload["summary"]["findings"]}
    assert len(payload["results"]) == 6
    assert payload["results"][1]["findings"][0]["article"].startswith("MOC-KH ")


def test_text_output_shows_errors_with_pointer_and_a_summary(mixed: Path) -> None:
    result = invoke("check", str(mixed))
    assert "e-schema.json" in result.output and "(at /fees/0/amount)" in result.output
    assert "6 dossiers: 3 screened, 3 unreadable" in result.output


def test_missing_file_is_an_input_error() -> None:
    result = invoke("check", "no-such-file.json", "--format", "jsonl")
    assert result.exit_code == 2
    assert json.loads(result.output)["errors"][0]["kind"] == "not_found"


def test_lang_ja_prints_japanese_messages() -> None:
    result = invoke("check", str(SAMPLES / "kh-candidate-abroad-no-agency.json"), "--lang", "ja")
    assert "登録証明書" in result.output


def test_stdin_dossier() -> None:
    result = invoke("check", "-", "--format", "jsonl", stdin=(SAMPLES / "pk-candidate-false-documents.json").read_text())
    record = json.loads(result.output)
    assert record["dossier_id"] == "PK-CAND-0002" and result.exit_code == 0  # acts of 4(1) are warn + share
    assert invoke("check", "-", "--fail-on", "warn", stdin=(SAMPLES / "pk-candidate-false-documents.json").read_text()).exit_code == 1


def test_as_of_option_changes_the_result() -> None:
    path = str(SAMPLES / "kh-candidate-revoked-agency.json")
    before = json.loads(invoke("check", path, "--format", "jsonl", "--as-of", "2025-06-30").output)
    after = json.loads(invoke("check", path, "--format", "jsonl").output)
    assert before["as_of"] == "2025-06-30"
    assert "kh.agency-accreditation-revoked" not in [f["rule_id"] for f in before["findings"]]
    assert "kh.agency-accreditation-revoked" in [f["rule_id"] for f in after["findings"]]


def test_usage_errors_exit_2() -> None:
    assert invoke("check").exit_code == 2
    assert invoke("check", "x.json", "--format", "xml").exit_code == 2
    assert invoke("check", "x.json", "--as-of", "yesterday").exit_code == 2


def test_broken_pack_directory_exits_2(tmp_path: Path) -> None:
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("missing: certificate\n", "missing: certficate\n"))
    result = CliRunner().invoke(main, ["check", str(SAMPLES / "kh-candidate-clean.json"), "--packs", str(tmp_path)])
    assert result.exit_code == 2
    assert "xx.yaml:22: [rule xx.no-certificate]" in result.stderr


def test_packs_list_show_and_explain() -> None:
    listed = json.loads(invoke("packs", "list", "--format", "json").output)
    assert {p["id"] for p in listed} == set(load_packs(RULES).sources)  # every pack file present, abstract ones too
    shown = invoke("packs", "show", "pk")
    assert "MOC-PK 4(1)(e)" in shown.output and "anyone" in shown.output
    explained = invoke("explain", "common.test-fraud")
    assert "MOC-KH 7" in explained.output and "MOC-PK 5" in explained.output
    assert "test.impersonation_reported == true" in explained.output
    assert invoke("explain", "common.test-frau").exit_code == 2


def test_packs_lint(tmp_path: Path) -> None:
    assert invoke("packs", "lint", str(RULES)).exit_code == 0
    write_pack(tmp_path, "xx.yaml", MINI_PACK.replace("severity: block", "severity: fatal"))
    result = CliRunner().invoke(main, ["packs", "lint", str(tmp_path / "xx.yaml")])
    assert result.exit_code == 1 and "xx.yaml:20:" in result.stderr


def test_packs_test_reports_failures_with_file_and_line(tmp_path: Path) -> None:
    write_pack(
        tmp_path,
        "xx.yaml",
        MINI_PACK.replace("{name: passes, expect: pass, dossier: {certificate: {number: C-1}}}", "{name: passes, expect: pass, dossier: {}}"),
    )
    result = invoke("packs", "test", "--packs", str(tmp_path))
    assert result.exit_code == 1
    assert "FAIL" in result.output and "xx.yaml:" in result.output and "case 'passes'" in result.output
    assert "UNCOVERED [xx.no-certificate]" in result.output
    assert "2 cases: 1 passed, 1 failed" in result.output


def test_schemas_check() -> None:
    assert invoke("schemas", "write", "--check", "--dir", str(RULES.parent / "schemas")).exit_code == 0
