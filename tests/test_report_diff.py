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
    assert rows[0][:4] == ["dossier id", "kind", "country", "outcome"]
    assert len(rows) == 1 + len(expected)
    assert [row[-1] for row in rows[1:]] == [r["source"] for r in expected]
    assert {row[3] for row in rows[1:]} == {"unreadable", "MOC not in force"}


def test_report_csv_of_a_view_in_japanese_is_for_excel(runs: dict[str, Path], tmp_path: Path) -> None:
    """With --lang ja the CSV opens right in a Japanese Excel: UTF-8 with a byte order mark, CRLF line ends."""
    result = invoke("report", str(runs["first"]), "--view", "outcome", "--format", "csv", "--lang", "ja")
    raw = result.stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == raw.count(b"\n") == 6
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["判定", "案件数"] and rows[2][0] == "要確認" and sum(int(n) for _, n in rows[1:]) == 200
    path = tmp_path / "out.csv"
    invoke("report", str(runs["first"]), "--format", "csv", "--lang", "ja", "--output", str(path))
    assert path.read_bytes().startswith("\ufeff案件ID".encode())


@pytest.mark.parametrize(("flags", "bom"), [((), False), (("--excel",), True), (("--lang", "ja", "--no-excel"), False)])
def test_report_csv_byte_order_mark_only_for_excel(runs: dict[str, Path], flags: tuple[str, ...], bom: bool) -> None:
    raw = invoke("report", str(runs["first"]), "--view", "outcome", "--format", "csv", *flags).stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf") == bom and b"\r\n" in raw


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
    assert book.sheetnames == ["判定別", "国別", "条項別", "ルール別", "仲介機関別", "案件別", "指摘一覧", "作成の経緯"]
    assert [c.value for c in book["判定別"][1]] == ["判定", "案件数"]
    assert book["案件別"].max_row == 201
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
    changes, summary = [x["change"] for x in lines if "change" in x], lines[-1]["summary"]
    assert lines[0]["runs"]["differences"] == ["registry KH accredited-agencies: " + _registry_was(runs["first"]) + " → not loaded"]
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
    revoked = summary["rules"]["kh.broker-revoked-on-list"]
    assert revoked["added"] == 0 and revoked["removed"] == sum(1 for c in changes if "kh.broker-revoked-on-list" in c["removed"]) > 0
    moved = sum(m["dossiers"] for m in summary["moves"])
    assert moved == summary["outcome_changed"] == sum(old[s]["outcome"] != new[s]["outcome"] for s in old)


def test_diff_refuses_results_of_another_input(runs: dict[str, Path], tmp_path: Path) -> None:
    result = invoke("diff", str(runs["first"]), str(runs["other"]))
    assert result.exit_code == 2 and "not results of the same input" in result.stderr
    lines = [line for line in runs["source"].read_text(encoding="utf-8").splitlines() if line.strip()]
    (tmp_path / "in.jsonl").write_text("\n".join(lines[1:] + lines[:1]) + "\n", encoding="utf-8")  # same name, other order
    invoke("batch", str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "out.jsonl"), "--jobs", "1")
    result = invoke("diff", str(runs["first"]), str(tmp_path / "out.jsonl"))
    assert result.exit_code == 2 and "record 1 is " in result.stderr and "with other contents: not the same input" in result.stderr


def test_batch_baseline(runs: dict[str, Path], tmp_path: Path) -> None:
    same = invoke("batch", str(runs["source"]), "--out", str(tmp_path / "again.jsonl"), "--jobs", "1", "--baseline", str(runs["first"]))
    assert same.exit_code == 2  # the input holds unreadable records: that still wins
    clean = tmp_path / "clean.jsonl"
    clean.write_text("\n".join(line for line in runs["source"].read_text().splitlines() if '"dossier_id": "KH-BRK-0007"' in line) + "\n")
    base = tmp_path / "base.jsonl"
    assert invoke("batch", str(clean), "--out", str(base), "--jobs", "1").exit_code == 0
    assert invoke("batch", str(clean), "--out", str(tmp_path / "b.jsonl"), "--jobs", "1", "--baseline", str(base)).exit_code == 0
    changed = invoke("batch", str(clean), "--out", str(tmp_path / "c.jsonl"), "--jobs", "1", "--baseline", str(base), "--registries", str(runs["registries"]))
    assert changed.exit_code == 1 and "kh.broker-revoked-on-list" in changed.stderr


def _registry_was(results: Path) -> str:
    """How ``diff`` words the KH list of accredited agencies a run used."""
    header = json.loads(results.read_text(encoding="utf-8").splitlines()[0])
    used = header["registries"]["kh"][0]
    return f"retrieved {used['retrieved_on']}, {used['entries']} entries (sha256 {used['sha256'][:12]}) (fictional sample data)"


def test_diff_knows_the_same_input_under_another_path(runs: dict[str, Path], tmp_path: Path) -> None:
    """The input is recognised by what it holds, not by its name: moved and screened again, nothing changed."""
    moved = tmp_path / "elsewhere" / "renamed.jsonl"
    moved.parent.mkdir()
    shutil.copy(runs["source"], moved)
    again = tmp_path / "again.jsonl"
    invoke("batch", str(moved), "--out", str(again), "--jobs", "1")
    result = invoke("diff", str(runs["first"]), str(again))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("the two runs used the same program, backend, as-of date, packs and registries\n")


def test_diff_starts_with_what_differs_between_the_runs(runs: dict[str, Path], tmp_path: Path) -> None:
    later = tmp_path / "later.jsonl"
    invoke("batch", str(runs["source"]), "--out", str(later), "--jobs", "1", "--as-of", "2025-12-01", "--registries", str(runs["registries"]))
    result = invoke("diff", str(runs["first"]), str(later))
    lines = result.output.splitlines()
    assert lines[0] == "the two runs differ in:"
    assert lines[1] == "  as-of date: each dossier's submitted date → 2025-12-01"
    assert lines[2].startswith("  registry KH accredited-agencies: retrieved ") and lines[2].endswith("→ not loaded")
    assert "⚠ fictional sample data" in lines[3]
    summary = json.loads(invoke("diff", str(runs["first"]), str(later), "--format", "json").output)
    assert summary["runs"]["old"]["as_of"] is None and summary["runs"]["new"]["as_of"] == "2025-12-01"
    assert {p["id"] for p in summary["runs"]["new"]["packs"]} >= {"common", "kh", "la", "kg", "tj", "pk"}
