"""``report`` (filters, table, CSV, XLSX, JSON) and ``diff`` / ``batch --baseline`` over results files."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from dossier_rules.cli import main
from dossier_rules.results import read_results

from .conftest import RULES
from .test_batch import make_input


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One input screened twice: with every registry, and without Cambodia's list of accredited agencies."""
    tmp = tmp_path_factory.mktemp("runs")
    source = make_input(tmp / "in.jsonl", 200)
    registries = Path(shutil.copytree(RULES / "registries", tmp / "registries"))
    (registries / "kh-accredited-agencies.json").unlink()
    first, second = tmp / "first.jsonl", tmp / "second.jsonl"
    invoke("batch", str(source), "--out", str(first), "--jobs", "1")
    invoke("batch", str(source), "--out", str(second), "--jobs", "1", "--registries", str(registries))
    other = make_input(tmp / "other.jsonl", 50)
    invoke("batch", str(other), "--out", str(tmp / "other-out.jsonl"), "--jobs", "1")
    return {"source": source, "first": first, "second": second, "registries": registries, "other": tmp / "other-out.jsonl"}


def test_report_json_counts_the_selected_dossiers(runs: dict[str, Path]) -> None:
    result = invoke("report", str(runs["first"]), "--country", "KH", "--country", "LA", "--format", "json")
    assert result.exit_code == 0
    summary = json.loads(result.output)["summary"]
    chosen = [r for r in read_results(runs["first"]) if r.get("country") in ("KH", "LA")]
    assert summary["records"] == len(chosen)
    for state in ("blocked", "review", "clear"):
        assert summary["outcome"][state] == sum(r["outcome"] == state for r in chosen)
    assert summary["outcome"]["unreadable"] == 0 and set(summary["country"]) == {"KH", "LA"}


def test_report_finding_filters_and_by_intermediary(runs: dict[str, Path]) -> None:
    result = invoke("report", str(runs["first"]), "--intermediary", "KH-BRK-0009", "--format", "json")
    summary = json.loads(result.output)["summary"]
    naming = [r for r in read_results(runs["first"]) if any((f.get("subject") or {}).get("id") == "KH-BRK-0009" for f in r.get("findings", []))]
    assert summary["records"] == len(naming) > 0
    party = summary["intermediary"]["id:KH-BRK-0009"]
    assert party["candidates"] == len(naming) and party["acts"] == ["a", "c", "e"] and party["countries"] == ["KH"]
    assert list(summary["intermediary"]) == ["id:KH-BRK-0009"]  # findings about others are not counted


def test_report_csv_one_row_per_dossier(runs: dict[str, Path]) -> None:
    result = invoke("report", str(runs["first"]), "--outcome", "unreadable", "--outcome", "not_in_force", "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.output)))
    expected = [r for r in read_results(runs["first"]) if r["outcome"] in ("unreadable", "not_in_force")]
    assert rows[0][:4] == ["dossier", "kind", "country", "outcome"]
    assert len(rows) == 1 + len(expected)
    assert [row[-1] for row in rows[1:]] == [r["source"] for r in expected]
    assert {row[3] for row in rows[1:]} == {"unreadable", "MOC not in force"}


def test_report_csv_of_a_view_in_japanese(runs: dict[str, Path]) -> None:
    result = invoke("report", str(runs["first"]), "--view", "outcome", "--format", "csv", "--lang", "ja")
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["判定", "件数"] and rows[2][0] == "要確認" and sum(int(n) for _, n in rows[1:]) == 200


def test_report_cells_never_become_formulas(tmp_path: Path) -> None:
    record = {
        "dossier_id": "X-1",
        "kind": "candidate",
        "country": "KH",
        "outcome": "blocked",
        "source": "in:1",
        "submitted": "2025-01-01",
        "as_of": "2025-01-01",
        "pack": "kh",
        "pack_status": {"state": "in_force"},
        "counts": {},
        "findings": [
            {
                "rule_id": "r",
                "article": "MOC-KH 4(1)(a)",
                "also": [],
                "severity": "block",
                "share": True,
                "act": "a",
                "subject": {"name": '=HYPERLINK("http://x")'},
            }
        ],
    }
    results = tmp_path / "r.jsonl"
    results.write_text(json.dumps(record) + "\n")
    out = invoke("report", str(results), "--view", "intermediary", "--format", "csv").output
    assert "'=HYPERLINK" in out
    invoke("report", str(results), "--format", "xlsx", "--output", str(tmp_path / "r.xlsx"))
    sheet = load_workbook(tmp_path / "r.xlsx")["by intermediary"]
    assert sheet["B2"].value == '\'=HYPERLINK("http://x")' and sheet["B2"].data_type == "s"


def test_report_xlsx_has_a_sheet_per_view(runs: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    assert invoke("report", str(runs["first"]), "--format", "xlsx", "--output", str(path), "--lang", "ja").exit_code == 0
    book = load_workbook(path)
    assert book.sheetnames == ["判定別", "国別", "条項別", "規則別", "仲介機関別", "記録別"]
    assert [c.value for c in book["判定別"][1]] == ["判定", "件数"]
    assert book["記録別"].max_row == 201
    assert invoke("report", str(runs["first"]), "--format", "xlsx").exit_code == 2  # needs --output


def test_report_refuses_a_file_that_is_not_results(tmp_path: Path) -> None:
    bad = tmp_path / "x.jsonl"
    bad.write_text('{"a": 1}\n')
    result = invoke("report", str(bad))
    assert result.exit_code == 2 and "x.jsonl:1" in result.stderr


def test_diff_of_a_run_with_itself_is_empty(runs: dict[str, Path]) -> None:
    result = invoke("diff", str(runs["first"]), str(runs["first"]), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output)["summary"] == {"records": 200, "changed": 0, "outcome_changed": 0, "moves": [], "rules": {}}


def test_diff_after_a_registry_change(runs: dict[str, Path]) -> None:
    result = invoke("diff", str(runs["first"]), str(runs["second"]), "--format", "jsonl")
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.output.splitlines()]
    changes, summary = [x["change"] for x in lines[:-1]], lines[-1]["summary"]
    old = {r["source"]: r for r in read_results(runs["first"])}
    new = {r["source"]: r for r in read_results(runs["second"])}
    differing = [
        s
        for s in old
        if old[s]["outcome"] != new[s]["outcome"]
        or sorted(f["rule_id"] for f in old[s].get("findings", [])) != sorted(f["rule_id"] for f in new[s].get("findings", []))
    ]
    assert [c["source"] for c in changes] == differing and summary["changed"] == len(differing)
    assert all(old[c["source"]]["country"] == "KH" for c in changes)
    revoked = summary["rules"]["kh.agency-revoked-on-list"]
    assert revoked["added"] == 0 and revoked["removed"] == sum(1 for c in changes if "kh.agency-revoked-on-list" in c["removed"]) > 0
    moved = sum(m["dossiers"] for m in summary["moves"])
    assert moved == summary["outcome_changed"] == sum(old[s]["outcome"] != new[s]["outcome"] for s in old)


def test_diff_refuses_results_of_another_input(runs: dict[str, Path]) -> None:
    result = invoke("diff", str(runs["first"]), str(runs["other"]))
    assert result.exit_code == 2 and "not the same input" in result.stderr


def test_batch_baseline(runs: dict[str, Path], tmp_path: Path) -> None:
    same = invoke("batch", str(runs["source"]), "--out", str(tmp_path / "again.jsonl"), "--jobs", "1", "--baseline", str(runs["first"]))
    assert same.exit_code == 2  # the input holds unreadable records: that still wins
    clean = tmp_path / "clean.jsonl"
    clean.write_text("\n".join(line for line in runs["source"].read_text().splitlines() if '"KH-CAND-0004"' in line) + "\n")
    base = tmp_path / "base.jsonl"
    assert invoke("batch", str(clean), "--out", str(base), "--jobs", "1").exit_code == 0
    assert invoke("batch", str(clean), "--out", str(tmp_path / "b.jsonl"), "--jobs", "1", "--baseline", str(base)).exit_code == 0
    changed = invoke("batch", str(clean), "--out", str(tmp_path / "c.jsonl"), "--jobs", "1", "--baseline", str(base), "--registries", str(runs["registries"]))
    assert changed.exit_code == 1 and "kh.agency-revoked-on-list" in changed.stderr
