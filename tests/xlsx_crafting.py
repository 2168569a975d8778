"""Workbooks written byte by byte, as a hostile or careless tool would: declared dimensions that lie, shared-string bombs, DTDs.

openpyxl writes only well-formed, honest files, so the import's defences
are tested on .xlsx files assembled here from their XML parts.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006"

Cell = str | int | tuple[str, int]
"""Inline text, a number, or ``("s", index)``: a reference to the shared-string table."""


def cell_xml(ref: str, value: Cell) -> str:
    if isinstance(value, tuple):
        return f'<c r="{ref}" t="s"><v>{value[1]}</v></c>'
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def sheet_xml(rows: list[list[Cell | None]], dimension: str | None = None, prolog: str = "") -> str:
    """A worksheet: row 1 is rows[0]; ``dimension`` is what it declares (None: none declared)."""
    body = []
    for number, row in enumerate(rows, 1):
        cells = "".join(cell_xml(f"{get_column_letter(i)}{number}", v) for i, v in enumerate(row, 1) if v is not None)
        body.append(f'<row r="{number}">{cells}</row>')
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{MAIN}">{declared}<sheetData>{"".join(body)}</sheetData></worksheet>'


def write_xlsx(path: Path, sheets: dict[str, str], shared: list[str] | None = None, encoding: str = "utf-8") -> Path:
    """An .xlsx of the given sheet XML (by sheet name, written in ``encoding``), with a shared-string table when ``shared`` is given."""
    names = list(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(names) + 1)
    )
    if shared is not None:
        overrides += '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    parts = {
        "[Content_Types].xml": f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{PKG}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}</Types>",
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
        + "".join(f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, 1))
        + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}/relationships">'
        + "".join(f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(names) + 1))
        + (f'<Relationship Id="rIdS" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>' if shared is not None else "")
        + "</Relationships>",
    }
    sheet_parts = {f"xl/worksheets/sheet{i}.xml": sheets[name] for i, name in enumerate(names, 1)}
    if shared is not None:
        items = "".join(f"<si><t>{escape(s)}</t></si>" for s in shared)
        parts["xl/sharedStrings.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{len(shared)}" uniqueCount="{len(shared)}">{items}</sst>'
        )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text.encode())
        for name, text in sheet_parts.items():
            archive.writestr(name, text.encode(encoding))
    return path


def candidate_rows(keys: list[str], rows: list[list[Cell | None]]) -> list[list[Cell | None]]:
    """A main sheet's rows: a header row, the keys row, then ``rows``."""
    return [list(keys), list(keys), *rows]


def shared_string_bomb(path: Path, cells: int = 400, size: int = 1_000_000) -> Path:
    """``cells`` candidate rows whose name cell points at one shared string of ``size`` characters (a few KB zipped)."""
    keys = ["dossier_id", "country", "submitted", "identity.name"]
    rows: list[list[Cell | None]] = [[f"D-{n}", "KH", "2025-01-01", ("s", 0)] for n in range(cells)]
    return write_xlsx(path, {"candidates": sheet_xml(candidate_rows(keys, rows))}, shared=[" " + "x" * (size - 2) + " "])  # padded: stripping it copies it


def rewrite_parts(path: Path, change: dict[str, object]) -> Path:
    """``path`` with the parts for which ``change`` has a function (old text -> new text) rewritten, the rest copied."""
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            fn = change.get(name) or change.get("*")
            archive.writestr(name, fn(data.decode()).encode() if callable(fn) else data)
    return path
