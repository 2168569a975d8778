"""Dossiers in workbooks: the template follows the model, samples survive the round trip, bad cells are named."""

from __future__ import annotations

import json
import re
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from dossier_rules import spreadsheets
from dossier_rules.cli import main
from dossier_rules.model import CandidateDossier, Sector
from dossier_rules.spreadsheets import read_workbook, write_workbook

from . import xlsx_crafting
from .conftest import SAMPLES
from .xlsx_crafting import rewrite_parts


def samples() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(SAMPLES.glob("*.json"))]


@pytest.fixture()
def filled(tmp_path: Path) -> Path:
    path = tmp_path / "dossiers.xlsx"
    write_workbook(samples(), path)
    return path


def column(sheet, key: str) -> int:
    return [c.value for c in sheet[2]].index(key) + 1


def row_of(sheet, dossier_id: str) -> int:
    ids = column(sheet, "dossier_id")
    return next(r for r in range(3, sheet.max_row + 1) if sheet.cell(r, ids).value == dossier_id)


def test_round_trip_samples_to_workbook_to_dossiers(filled: Path) -> None:
    result = read_workbook(filled)
    assert result.problems == [] and result.rejected == 0
    assert sorted(result.dossiers, key=lambda d: d["dossier_id"]) == sorted(samples(), key=lambda d: d["dossier_id"])


def test_template_follows_the_model(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    assert CliRunner().invoke(main, ["sheet", "template", str(path)]).exit_code == 0
    book = load_workbook(path)
    assert book.sheetnames[0] == "candidates" and "fees" in book.sheetnames and "complaints" in book.sheetnames
    main_sheet = book["candidates"]
    keys = [c.value for c in main_sheet[2]]
    assert keys[:4] == ["schema_version", "dossier_id", "country", "submitted"]
    assert {"identity.name", "sending_agency.accreditation.number", "languages", "fees:none"} <= set(keys)
    assert "fees" not in keys and set(CandidateDossier.model_fields) - {"kind"} <= {k.split(".")[0].split(":")[0] for k in keys}
    headers = dict(zip(keys, [c.value for c in main_sheet[1]], strict=True))
    assert headers["identity.name"] == "身分事項 › 氏名" and headers["submitted"] == "提出日"
    assert next(c.value for c in book["fees"][2]) == "dossier_id"
    # a drop-down list for every enumerated column, with the model's values
    lists = {next(map(str, v.sqref.ranges)).split(":")[0].rstrip("0123456789"): v.formula1 for v in main_sheet.data_validations.dataValidation}
    sector = main_sheet.cell(1, keys.index("sector") + 1).column_letter
    assert lists[sector] == '"' + ",".join(Sector.__args__) + '"'


def test_bad_cells_are_named_and_good_rows_imported(filled: Path) -> None:
    book = load_workbook(filled)
    sheet = book["candidates"]
    sheet.cell(row_of(sheet, "KH-CAND-0001"), column(sheet, "submitted")).value = "2025-13-01"
    sheet.cell(row_of(sheet, "KH-CAND-0002"), column(sheet, "sector")).value = "mining"
    sheet.cell(row_of(sheet, "KH-CAND-0004"), column(sheet, "identity.name")).value = None
    fees = book["fees"]
    fees.cell(3, column(fees, "amount")).value = "a lot"
    orphan = fees.max_row + 1
    fees.cell(orphan, 1).value = "NOPE-1"
    fees.cell(orphan, column(fees, "amount")).value = 10
    book.save(filled)
    result = read_workbook(filled)
    text = [str(p) for p in result.problems]
    letter = sheet.cell(1, column(sheet, "submitted")).column_letter
    assert any(f"sheet candidates, row {row_of(sheet, 'KH-CAND-0001')}, column {letter}: submitted: expected a date (YYYY-MM-DD)" in t for t in text)
    assert any(
        f"row {row_of(sheet, 'KH-CAND-0002')}, column {sheet.cell(1, column(sheet, 'sector')).column_letter}: sector" in t and "nursing_care" in t for t in text
    )
    assert any(f"row {row_of(sheet, 'KH-CAND-0004')}, column {sheet.cell(1, column(sheet, 'identity.name')).column_letter}: identity.name" in t for t in text)
    assert any("sheet fees, row 3, column" in t and "amount: expected a number" in t for t in text)
    assert any(f"sheet fees, row {orphan}, column A: dossier_id 'NOPE-1'" in t for t in text)
    fee_owner = fees.cell(3, 1).value
    left_out = {"KH-CAND-0001", "KH-CAND-0002", "KH-CAND-0004", fee_owner}
    assert result.rejected == len(left_out)
    assert sorted(d["dossier_id"] for d in result.dossiers) == sorted(s["dossier_id"] for s in samples() if s["dossier_id"] not in left_out)


def test_none_declared_differs_from_not_provided(filled: Path) -> None:
    by_id = {d["dossier_id"]: d for d in read_workbook(filled).dossiers}
    assert by_id["KG-CAND-0001"]["fees"] == [] and "fees" not in by_id["KG-CAND-0002"]
    book = load_workbook(filled)
    sheet = book["candidates"]
    sheet.cell(row_of(sheet, "KH-CAND-0003"), column(sheet, "fees:none")).value = True  # but it has fee rows
    book.save(filled)
    problems = [str(p) for p in read_workbook(filled).problems]
    assert any("fees:none says there are none, but sheet fees has rows for KH-CAND-0003" in p for p in problems)


@pytest.mark.parametrize("name", ["=1+1", "\t=1+1", "@SUM(A1)"])
def test_formula_like_text_stays_text(tmp_path: Path, name: str) -> None:
    """The dossier spreadsheet uses the one formula guard of every spreadsheet (tab and CR included)."""
    dossier = {**samples()[1], "dossier_id": "X-1"}
    dossier["identity"] = {**dossier["identity"], "name": name}
    path = tmp_path / "f.xlsx"
    write_workbook([dossier], path)
    sheet = load_workbook(path)["candidates" if dossier["kind"] == "candidate" else "brokers"]
    cell = sheet.cell(3, column(sheet, "identity.name"))
    assert cell.data_type == "s" and cell.value == "'" + name
    assert read_workbook(path).dossiers[0]["identity"]["name"] == name


def test_cli_import_writes_the_good_dossiers(filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "d.jsonl"
    result = CliRunner().invoke(main, ["sheet", "import", str(filled), "--out", str(out)])
    assert result.exit_code == 0 and len(out.read_text().splitlines()) == len(samples())
    screened = CliRunner().invoke(main, ["batch", str(out), "--out", str(tmp_path / "r.jsonl"), "--jobs", "1"])
    assert screened.exit_code == 0
    not_a_workbook = tmp_path / "x.xlsx"
    not_a_workbook.write_text("hello")
    refused = CliRunner().invoke(main, ["sheet", "import", str(not_a_workbook), "--out", str(out)])
    assert refused.exit_code == 2 and "not an Excel workbook" in refused.stderr


def test_values_sheet_labels_every_choice(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_workbook([], path)
    book = load_workbook(path)
    rows = [[c.value for c in row] for row in book["values"].iter_rows(min_row=3)]
    sectors = {value: ja for key, value, ja, _en in rows if key == "sector"}
    assert set(sectors) == set(Sector.__args__) and sectors["shipbuilding"] == "造船・舶用工業"
    assert ["residence", "japan", "日本国内", "in Japan"] in rows
    main_sheet = book["candidates"]
    prompts = [v.prompt for v in main_sheet.data_validations.dataValidation if v.prompt]
    assert any("nursing_care = 介護" in p for p in prompts)
    assert read_workbook(path).problems == []  # the values sheet is not read as dossiers


# ---------------------------------------------------------------- crafted workbooks


def import_cli(workbook: Path, tmp_path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--lang", "en", "sheet", "import", str(workbook), "--out", str(tmp_path / "out.jsonl")])
    return result.exit_code, result.stderr


def test_a_declared_dimension_that_lies_drops_no_row(filled: Path) -> None:
    lie = re.compile(r'<dimension ref="[^"]*"\s*/>')
    rewrite_parts(filled, {"*": lambda text: lie.sub('<dimension ref="A1:D5"/>', text)})
    with zipfile.ZipFile(filled) as archive:
        assert b'<dimension ref="A1:D5"/>' in archive.read("xl/worksheets/sheet4.xml")  # the fees sheet, with more rows than that
    result = read_workbook(filled)
    assert result.problems == [] and result.rejected == 0
    assert sorted(result.dossiers, key=lambda d: d["dossier_id"]) == sorted(samples(), key=lambda d: d["dossier_id"])


def test_many_cells_pointing_at_one_huge_shared_string_are_refused_without_copying_it(tmp_path: Path) -> None:
    bomb = xlsx_crafting.shared_string_bomb(tmp_path / "bomb.xlsx", cells=400, size=1_000_000)
    tracemalloc.start()
    try:
        result = read_workbook(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.dossiers == [] and result.rejected == 400
    assert all("1000000 characters; a cell holds at most 32767" in p.message for p in result.problems)
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MiB (it was 393 MiB when each cell's text was copied)"


@pytest.mark.parametrize(
    "prolog",
    ['<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>', '<!DOCTYPE worksheet SYSTEM "file:///etc/passwd">'],
)
def test_a_dtd_in_any_part_is_refused_in_one_line(tmp_path: Path, prolog: str) -> None:
    sheet = xlsx_crafting.sheet_xml([["dossier_id"], ["dossier_id"], ["D-1"]], prolog=prolog)
    for encoding in ("utf-8", "utf-16"):
        text = sheet if encoding == "utf-8" else sheet.replace('encoding="UTF-8"', 'encoding="UTF-16"')
        workbook = xlsx_crafting.write_xlsx(tmp_path / "dtd.xlsx", {"candidates": text}, encoding=encoding)
        code, stderr = import_cli(workbook, tmp_path)
        assert code == 2 and "DTD" in stderr and "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, encoding


@pytest.mark.parametrize(
    "sheet",
    [
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x',
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="x"><c r="??" t="n"><v>zz</v></c></row></sheetData></worksheet>',
        "not xml at all",
    ],
    ids=["truncated", "nonsense-references", "not-xml"],
)
def test_a_malformed_sheet_is_exit_2_in_one_line(tmp_path: Path, sheet: str) -> None:
    workbook = xlsx_crafting.write_xlsx(tmp_path / "bad.xlsx", {"candidates": sheet})
    code, stderr = import_cli(workbook, tmp_path)
    assert code == 2 and "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr


def test_rows_are_counted_as_the_sheet_holds_them_not_as_it_declares(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 10)
    rows: list = [["dossier_id"], ["dossier_id"], *([f"D-{n}"] for n in range(11))]
    workbook = xlsx_crafting.write_xlsx(tmp_path / "rows.xlsx", {"candidates": xlsx_crafting.sheet_xml(rows, dimension="A1:A3")})
    code, stderr = import_cli(workbook, tmp_path)
    assert code == 2 and "more than 10 rows" in stderr
    far = xlsx_crafting.write_xlsx(
        tmp_path / "far.xlsx",
        {
            "candidates": xlsx_crafting.sheet_xml([["dossier_id"], ["dossier_id"]]).replace(
                "</sheetData>", '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>D-far</t></is></c></row></sheetData>'
            )
        },
    )
    code, stderr = import_cli(far, tmp_path)
    assert code == 2 and "more than 10 rows" in stderr


def test_decompressed_size_and_text_read_are_bounded(filled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    unzipped = sum(i.file_size for i in zipfile.ZipFile(filled).infolist())
    monkeypatch.setattr(spreadsheets, "MAX_UNZIPPED_BYTES", unzipped - 1)
    code, stderr = import_cli(filled, tmp_path)
    assert code == 2 and "decompresses to more than" in stderr
    monkeypatch.setattr(spreadsheets, "MAX_UNZIPPED_BYTES", unzipped)
    monkeypatch.setattr(spreadsheets, "MAX_TEXT_CHARS", 1000)
    code, stderr = import_cli(filled, tmp_path)
    assert code == 2 and "more than 1000 characters of text" in stderr


def test_a_file_that_is_not_a_workbook_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "x.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    code, stderr = import_cli(tmp_path / "x.xlsx", tmp_path)
    assert code == 2 and "not an Excel workbook" in stderr and len(stderr.strip().splitlines()) == 1
