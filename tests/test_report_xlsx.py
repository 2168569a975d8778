"""``report --format xlsx`` read back with openpyxl: every sheet usable as it opens, in the reader's language."""

from __future__ import annotations

import getpass
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from dossier_rules import __version__, locale
from dossier_rules.cli import main
from dossier_rules.cli.workbook import MAX_WIDTH, evidence_words
from dossier_rules.report import OUTCOMES
from dossier_rules.results import outcome_label, read_header, read_results, severity_label

from .conftest import SAMPLES

SHEETS_JA = ["判定別", "国別", "条項別", "ルール別", "仲介機関別", "案件別", "指摘一覧", "作成の経緯"]


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    locale.set_language("en")
    return result


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("xlsx") / "results.jsonl"
    invoke("batch", str(SAMPLES), "--out", str(out), "--jobs", "1")
    return out


@pytest.fixture(scope="module")
def book_ja(results: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("book") / "report.xlsx"
    assert invoke("report", str(results), "--format", "xlsx", "--output", str(path), "--lang", "ja").exit_code == 0
    return load_workbook(path)


def header(sheet: Worksheet) -> list[Any]:
    return [c.value for c in sheet[1]]


def column(sheet: Worksheet, name: str) -> list[Any]:
    index = header(sheet).index(name) + 1
    return [sheet.cell(row, index).value for row in range(2, sheet.max_row + 1)]


def test_every_sheet_has_a_frozen_bold_header_a_filter_and_fitted_widths(book_ja: Any) -> None:
    assert book_ja.sheetnames == SHEETS_JA
    for sheet in book_ja:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet["A1"].font.b, sheet.title
        last = sheet.cell(1, len(header(sheet))).column_letter
        assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}", sheet.title
        widths = [sheet.column_dimensions[sheet.cell(1, i).column_letter].width for i in range(1, len(header(sheet)) + 1)]
        assert all(6 <= w <= MAX_WIDTH for w in widths), (sheet.title, widths)
    dossiers = book_ja["案件別"]
    ids = column(dossiers, "案件ID")
    assert dossiers.column_dimensions["A"].width == max(len(i) for i in ids) + 2  # fitted: the longest id, and a margin
    findings = book_ja["指摘一覧"]
    message = findings.cell(1, header(findings).index("内容") + 1).column_letter
    assert findings.column_dimensions[message].width == MAX_WIDTH  # capped; the text wraps in its cell
    assert findings[f"{message}2"].alignment.wrap_text


def test_cells_are_words_in_the_chosen_language_never_codes(book_ja: Any) -> None:
    dossiers = book_ja["案件別"]
    severities = [severity_label(s, "ja") for s in ("block", "warn", "info")]
    assert header(dossiers)[:9] == ["案件ID", "種別", "国", "判定", "提出日", "分野", *severities] and "block" not in severities
    assert set(column(dossiers, "種別")) == {"候補者案件", "仲介機関案件"}
    assert set(column(dossiers, "国")) == {"カンボジア", "ラオス", "キルギス", "タジキスタン", "パキスタン"}
    assert "建設" in column(dossiers, "分野") and "construction" not in column(dossiers, "分野")
    assert set(column(dossiers, "判定")) <= {outcome_label(o, "ja") for o in OUTCOMES} and "指摘なし" in column(dossiers, "判定")
    parties = book_ja["仲介機関別"]
    assert header(parties)[:3] == ["ID", "名称", "立場"]
    assert not any(str(v).startswith(("id:", "name:")) for v in column(parties, "ID") if v)
    assert "仲介機関（送出機関以外）" in column(parties, "立場") and "intermediary" not in column(parties, "立場")
    assert any("4(1)(a) 金銭・財産の管理" in (v or "") for v in column(parties, "行為"))
    for sheet in book_ja:
        values = {c.value for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str)}
        assert not values & {"candidate", "broker", "nursing_care", "block", "warn", "info", "intermediary", "KH", "blocked"}, sheet.title


def test_dates_are_excel_dates(book_ja: Any) -> None:
    submitted = book_ja["案件別"].cell(2, 5)
    assert submitted.is_date and submitted.number_format == "yyyy-mm-dd"
    first_seen = column(book_ja["仲介機関別"], "初出日")
    assert first_seen and all(isinstance(v, datetime) for v in first_seen)
    assert all(c.is_date for c in book_ja["指摘一覧"]["M"][1:])


def test_the_findings_sheet_has_one_row_per_finding(results: Path, book_ja: Any) -> None:
    sheet = book_ja["指摘一覧"]
    assert header(sheet) == [
        "案件ID",
        "国",
        "種別",
        "判定",
        "重大度",
        "共有対象",
        "条項",
        "表題",
        "ルール",
        "内容",
        "根拠となる記載",
        "仲介機関",
        "提出日",
        "入力",
    ]
    expected = [(r["dossier_id"], f["rule_id"], f["message"]["ja"]) for r in read_results(results) for f in r.get("findings", [])]
    rows = list(zip(column(sheet, "案件ID"), column(sheet, "ルール"), column(sheet, "内容"), strict=True))
    assert rows == expected
    deposits = header(sheet).index("根拠となる記載")
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[8] == "common.broker-holds-property")
    assert row[4] == severity_label("warn", "ja") == "要確認" and row[5] == "はい" and row[6] == "MOC-KG 4(1)(a)" and row[7] == "保証金を徴収する仲介機関"
    assert row[deposits] == "名称：Chui Example Consulting (fictional)\n所在国：キルギス\n業務の実態 › 保証金の徴収：はい"
    assert row[11] == "Chui Example Consulting (fictional) (KG-BRK-0002) — 仲介機関（送出機関以外）"


def test_evidence_in_words_in_english() -> None:
    words = evidence_words({"/held_property/1/holder": {"id": "KH-BRK-0009", "name": "Mekong"}, "/residence": "abroad", "/x": None}, "en")
    assert words == "held property 2 › holder: Mekong\nresidence: abroad\nx: (not provided)"


def test_the_provenance_sheet_says_what_produced_the_workbook(results: Path, book_ja: Any) -> None:
    sheet = book_ja["作成の経緯"]
    facts = {row[0]: row[1:] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}
    run = read_header(results)
    assert run is not None
    assert facts["⚠ 架空データ"][0].startswith("この審査で照合した一覧は架空のサンプルデータ")
    assert facts["作成したプログラム"][0] == f"dossier-rules {__version__}"
    assert isinstance(facts["作成日時（UTC）"][0], datetime) and facts["作成日時（UTC）"][0].date() >= date(2025, 1, 1)
    assert facts["作成した利用者"][0] == getpass.getuser()
    assert facts["審査したプログラム"][0] == f"dossier-rules {run['engine']['version']}" and facts["ルールの実行方式"][0] == "native"
    assert facts["基準日"][0] == "各案件の提出日"
    assert facts["絞り込み条件"][0] == "なし（すべての審査結果）"
    assert facts["入力の案件数、バイト数、sha256"][0] == 18
    packs = {row[0]: row[1:3] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] in ("common", "kh", "kg")}
    kh = next(p for p in run["packs"]["kh"] if p["id"] == "kh")
    assert packs["kh"] == (kh["version"], kh["sha256"])
    registry = next(row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] == "カンボジアの認定送出機関一覧")
    used = run["registries"]["kh"][0]
    assert registry[1].date().isoformat() == used["retrieved_on"] and registry[3] == "はい" and registry[4] == used["sha256"]


def test_filters_are_named_in_the_provenance_sheet(results: Path, tmp_path: Path) -> None:
    path = tmp_path / "kh.xlsx"
    invoke("report", str(results), "--country", "KH", "--outcome", "blocked", "--format", "xlsx", "--output", str(path), "--view", "findings")
    book = load_workbook(path)
    assert book.sheetnames == ["all findings", "provenance"]
    facts = {row[0]: row[1] for row in book["provenance"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert facts["filters"] == "country: Cambodia; outcome: blocked"
    assert set(column(book["all findings"], "country")) == {"Cambodia"}


def test_text_that_starts_like_a_formula_stays_text_in_every_sheet(tmp_path: Path) -> None:
    finding = {
        "rule_id": "r",
        "article": "MOC-KH 4(1)(a)",
        "also": [],
        "severity": "block",
        "share": True,
        "act": "a",
        "title": {"ja": "\tt", "en": "\tt"},
        "message": {"ja": "\r=1+1", "en": "\r=1+1"},
        "evidence": {"/name": "=cmd"},
        "subject": {"name": '=HYPERLINK("http://x")'},
    }
    record = {"dossier_id": "@X-1", "kind": "candidate", "country": "KH", "outcome": "blocked", "source": "in:1", "submitted": "2025-01-01"}
    record.update({"as_of": "2025-01-01", "pack": "kh", "pack_status": {"state": "in_force"}, "counts": {}, "findings": [finding]})
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(record) + "\n")
    invoke("report", str(path), "--format", "xlsx", "--output", str(tmp_path / "r.xlsx"))
    book = load_workbook(tmp_path / "r.xlsx")
    row = [c.value for c in book["all findings"][2]]
    assert row[0] == "'@X-1" and row[7] == "'\tt" and row[9].startswith("'") and row[9].endswith("=1+1") and row[11].startswith("'=HYPERLINK")
    assert all(c.data_type == "s" for c in book["all findings"][2] if isinstance(c.value, str))


def test_a_sheet_stops_at_what_excel_opens_and_says_so(results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dossier_rules.cli import workbook

    monkeypatch.setattr(workbook, "MAX_ROWS", 3)
    path = tmp_path / "full.xlsx"
    invoke("report", str(results), "--format", "xlsx", "--output", str(path), "--view", "findings", "--view", "outcome")
    book = load_workbook(path)
    assert book["all findings"].max_row == 4 and book["by outcome"].max_row == 4
    total = sum(len(r.get("findings", [])) for r in read_results(results))
    notes = [row[1] for row in book["provenance"].iter_rows(min_row=2, values_only=True) if row[0] == "⚠ sheet full"]
    assert notes == [
        f"all findings: the first 3 rows; {total - 3} more left out (Excel opens no more): use --format csv or jsonl",
        "by outcome: the first 3 rows; 2 more left out (Excel opens no more): use --format csv or jsonl",
    ]


def test_sheets_print_landscape_one_page_wide_with_their_header(book_ja: Any) -> None:
    for sheet in book_ja:
        assert sheet.page_setup.orientation == "landscape" and sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0 and sheet.print_title_rows == "$1:$1"


def test_rows_whose_text_wraps_are_as_high_as_their_lines(book_ja: Any) -> None:
    """Spreadsheets that do not fit row heights on opening (LibreOffice) still show the whole message and evidence."""
    sheet = book_ja["指摘一覧"]
    evidence = header(sheet).index("根拠となる記載") + 1
    for row in range(2, sheet.max_row + 1):
        lines = str(sheet.cell(row, evidence).value).count("\n") + 1
        height = sheet.row_dimensions[row].height
        assert height is not None and height >= 15 * lines, row  # the message beside it wraps in every row of this sample
        assert sheet.cell(row, evidence).alignment.wrap_text or lines == 1
    assert book_ja["判定別"].row_dimensions[2].height is None  # one line: left to the default
