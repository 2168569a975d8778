"""``packs fmt``: one canonical layout of pack YAML, comments kept, idempotent; --check and --diff write nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from dossier_rules.cli import main
from dossier_rules.located_yaml import load_yaml
from dossier_rules.pack_format import canonical, format_file
from dossier_rules.packs import pack_files
from dossier_rules.problems import InputError

from .conftest import MINI_PACK, RULES, write_pack


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("path", pack_files(RULES), ids=lambda p: p.name)
def test_formatting_a_shipped_pack_twice_changes_nothing_the_second_time_nor_its_data(path: Path) -> None:
    once = format_file(path).after
    assert canonical(once, str(path)) == once
    assert yaml.safe_load(once) == yaml.safe_load(path.read_text(encoding="utf-8"))
    assert once.count("#") == path.read_text(encoding="utf-8").count("#")  # every comment kept


REORDERED = """
# A pack written in no particular order.
rules:
  - tests:
      - {dossier: {}, expect: fire, name: fires}
      - {expect: pass, name: passes, dossier: {certificate: {number: C-1}}}
    evidence: [certificate]
    message: {ja: なし, en: "missing ({residence})"}
    when:
      missing: certificate   # the certificate, not its number
    severity: block
    applies_to: candidate
    article: "{acts}(a)"
    title: {ja: 証明書なし, en: No certificate}
    # the id carries the pack's id
    id: xx.no-certificate
    effect: {ja: 不適合です。, en: It does not meet the standards.}
    basis: {text: {ja: 根拠の条文, en: The text that makes it blocking}, article: "{acts}(a)", domestic: {article: {ja: 第1条, en: art. 1}, instrument: {ja: 法令, en: Act}}}
test_base:
  candidate: {kind: candidate, dossier_id: T-1, country: KH, submitted: "2025-03-01", identity: {name: T}}
pack:
  title: {ja: テスト, en: Test}
  version: 1.0.0
  id: xx
  provisions: {acts: "4(1)"}
  country: KH
  moc:
    in_force: {starts_on: "2020-01-01", article: "10"}
    signed: [{place: Tokyo, on: "2020-01-01"}]
    partner_ministry: {ja: 省, en: Ministry}
    contact_points: {article: "2", japan: {ja: 日本, en: Japan}, partner: {ja: 相手, en: Partner}}
    confidentiality: {article: "3", scope: third_parties, text: {ja: 秘密, en: Confidential}}
"""


def test_a_reordered_pack_is_put_in_the_declared_order_keeping_comments_and_its_own_orders(tmp_path: Path) -> None:
    path = write_pack(tmp_path, "xx.yaml", REORDERED)
    text = format_file(path).after
    data, _raw = load_yaml(write_pack(tmp_path, "formatted.yaml", text))  # the loader's YAML: 'on' is a key, not true
    assert list(data) == ["pack", "test_base", "rules"]
    assert list(data["pack"]) == ["id", "version", "country", "title", "moc", "provisions"]
    assert list(data["pack"]["moc"]) == ["partner_ministry", "contact_points", "confidentiality", "signed", "in_force"]
    assert list(data["pack"]["moc"]["in_force"]) == ["article", "starts_on"] and list(data["pack"]["moc"]["signed"][0]) == ["on", "place"]
    (rule,) = data["rules"]
    assert list(rule) == ["id", "title", "article", "applies_to", "severity", "basis", "when", "message", "effect", "evidence", "tests"]
    assert list(rule["basis"]) == ["article", "text", "domestic"] and list(rule["basis"]["domestic"]) == ["instrument", "article"]
    assert [list(case) for case in rule["tests"]] == [["name", "expect", "dossier"]] * 2
    assert list(data["test_base"]["candidate"]) == ["kind", "dossier_id", "country", "submitted", "identity"]  # a dossier keeps its order
    assert "    # the id carries the pack's id\n  - id: xx.no-certificate\n" in text  # before the dash, so a second run keeps it there
    assert "# A pack written in no particular order." in text and "missing: certificate   # the certificate, not its number" in text
    assert data == load_yaml(path)[0] and canonical(text, "xx.yaml") == text


def test_fmt_rewrites_check_lists_in_the_readers_language_and_diff_shows(tmp_path: Path) -> None:
    packs = tmp_path / "rules"
    packs.mkdir()
    shutil.copy(RULES / "common.yaml", packs / "common.yaml")
    path = write_pack(packs, "xx.yaml", REORDERED)
    before = path.read_text(encoding="utf-8")
    checked = cli("packs", "fmt", "--check", str(packs))
    assert checked.exit_code == 1 and f"{path}: not in the canonical layout" in checked.output and "common.yaml" not in checked.output
    japanese = cli("--lang", "ja", "packs", "fmt", "--check", str(packs))
    assert japanese.exit_code == 1 and str(path) in japanese.output and "canonical layout" not in japanese.output
    diff = cli("packs", "fmt", "--diff", str(path))
    assert diff.exit_code == 0 and f"--- {path}\n" in diff.output and "+  id: xx\n" in diff.output
    assert path.read_text(encoding="utf-8") == before  # --check and --diff write nothing
    rewritten = cli("packs", "fmt", str(packs))
    assert rewritten.exit_code == 0 and f"reformatted {path}" in rewritten.output
    assert cli("packs", "fmt", "--check", str(packs)).exit_code == 0
    assert cli("packs", "lint", str(packs)).exit_code == 0  # still the same pack


def test_an_unreadable_file_is_named_with_its_line_and_exits_2(tmp_path: Path) -> None:
    write_pack(tmp_path, "aa.yaml", MINI_PACK.replace("  version: 1.0.0", "  version: [1.0.0"))
    write_pack(tmp_path, "bb.yaml", MINI_PACK.replace("  country: KH\n", "  country: KH\n  id: yy\n"))
    write_pack(tmp_path, "cc.yaml", "- a list, not a pack\n")
    result = cli("packs", "fmt", "--check", str(tmp_path))
    assert result.exit_code == 2
    assert f"{tmp_path / 'aa.yaml'}:4: invalid YAML" in result.stderr  # where the parser sees the bracket left open
    assert f"{tmp_path / 'bb.yaml'}:5: invalid YAML: duplicate key 'id' (first at line 2)" in result.stderr
    assert f"{tmp_path / 'cc.yaml'}:1:" in result.stderr and "must be a YAML mapping" in result.stderr
    with pytest.raises(InputError):
        canonical("[", "inline.yaml")


@pytest.mark.parametrize("parent", ["common", "kh-la-kg-tj"])
def test_a_scaffolded_pack_is_already_in_the_canonical_layout(parent: str, tmp_path: Path) -> None:
    packs = tmp_path / "rules"
    shutil.copytree(RULES, packs)
    assert cli("packs", "new", "VN", "--packs", str(packs), "--extends", parent).exit_code == 0
    checked = cli("packs", "fmt", "--check", str(packs / "vn.yaml"))
    assert checked.exit_code == 0, checked.output
