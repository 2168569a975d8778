"""Dossiers in spreadsheets: a template generated from the dossier model, and the import of a filled workbook.

Examiners and sending agencies often keep candidates in Excel. The workbook
has one sheet per kind (``candidates``, ``brokers``), one row per dossier,
and one sheet per repeating group (``fees``, ``tests``, ``complaints``, ...)
whose rows are keyed by ``dossier_id`` and keep their order. Nested parts
(``identity``, ``sending_agency.accreditation``) are flattened into columns
named by their dotted path. Row 1 holds Japanese headers, row 2 the column
keys (English; the import reads these), data start on row 3. Columns with a
fixed set of values carry a drop-down list. ``<group>:none`` on the main
sheet states that the list is empty ("no fees were paid"), which differs
from leaving the group out ("not provided").

Everything comes from :mod:`dossier_rules.model`, so the workbook follows
the schema when the model changes. The import turns each row (with its group
rows) into a dossier, checks it against the same schema as any other input,
and names every bad cell by sheet, row and column with what was expected;
the dossiers without problems are imported all the same.
"""

from __future__ import annotations

import os
import types
import typing
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal, Union, get_args, get_origin
from xml.etree.ElementTree import ParseError

from pydantic import BaseModel

from .cells import guard, unguard
from .labels import field_label, labels_for
from .locale import N_, _
from .model import KINDS
from .private_files import private_output
from .problems import InputError, Problem
from .sources import MAX_QUOTED, check_dossier_data, excerpt, open_input, quote

MAX_ROWS = 100_000
"""Rows read per sheet, counted as the sheet's XML holds them (never as it declares); a larger sheet is refused."""

MAX_CELL_CHARS = 32_767
"""Characters in one cell: Excel's own limit. A longer cell (only a crafted file has one) is a problem, never copied."""

MAX_TEXT_CHARS = 64 * 1024 * 1024
"""Characters of text read from all cells of a workbook; past it the workbook is refused (split it)."""

MAX_WORKBOOK_BYTES = 64 * 1024 * 1024
"""Size of the .xlsx file itself."""

MAX_UNZIPPED_BYTES = 512 * 1024 * 1024
"""Bytes all parts of the workbook may hold once decompressed, as the archive declares them (reads stop there)."""

MAX_PARTS = 10_000
"""Files inside the .xlsx archive (a workbook of every sheet the layout has holds about 25)."""

VALIDATED_ROWS = 2_000
"""Rows of a new template that carry the drop-down lists."""

SHEETS = {"candidate": "candidates", "broker": "brokers"}

VALUES_SHEET = "values"
"""The sheet that lists the accepted values of every drop-down with their labels; never read by the import."""


# --------------------------------------------------------------------------- the layout, from the model


EXPECTED = {
    "text": N_("text"),
    "number": N_("a number"),
    "bool": N_("true or false"),
    "date": N_("a date (YYYY-MM-DD)"),
    "list": N_("values separated by commas"),
}


@dataclass(frozen=True)
class Column:
    """One column: the path of its value in the dossier (or list item) and what it holds."""

    path: tuple[str, ...]
    kind: Literal["text", "number", "bool", "date", "choice", "list"]
    choices: tuple[str, ...] = ()
    required: bool = False

    @property
    def key(self) -> str:
        return ".".join(self.path)

    def japanese(self, group: str | None = None) -> str:
        """The column's header: the names of its path's fields (:func:`dossier_rules.labels.field_label`), each
        read under its parent (in the sheet of a list, the list: a test's name is not a person's), joined as the result page joins them."""
        parents = (group or "", *self.path)
        return " › ".join(field_label(p, "ja", parent) for parent, p in zip(parents, self.path, strict=False))

    def expected(self) -> str:
        """What a cell of this column must hold, in words (for error messages)."""
        if self.kind == "choice":
            return _("one of {values}", values=", ".join(self.choices))
        return _(EXPECTED[self.kind])


@dataclass(frozen=True)
class Sheet:
    """A sheet of the workbook: the main sheet of a kind, or a repeating group keyed by ``dossier_id``."""

    name: str
    kind: str
    columns: tuple[Column, ...]
    group: str | None = None


def _unwrap(annotation: Any) -> Any:
    """The type inside ``X | None`` and ``Annotated[X, ...]``."""
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            inner = [a for a in get_args(annotation) if a is not type(None)]
            annotation = inner[0] if len(inner) == 1 else annotation
            if len(inner) != 1:
                return annotation
        else:
            return annotation


def _columns(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[Column | tuple[str, type[BaseModel]]]:
    """The model's scalar fields as columns (nested models flattened); lists of models as (name, item model)."""
    for name, info in model.model_fields.items():
        annotation = _unwrap(info.annotation)
        path = (*prefix, name)
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _columns(annotation, path)
        elif origin is list:
            item = _unwrap(get_args(annotation)[0])
            if isinstance(item, type) and issubclass(item, BaseModel):
                yield name, item
            else:
                yield Column(path, "list")
        elif origin is Literal:
            yield Column(path, "choice", tuple(str(c) for c in get_args(annotation)), info.is_required())
        elif annotation is bool:
            yield Column(path, "bool", ("true", "false"), info.is_required())
        elif annotation in (int, float):
            yield Column(path, "number", required=info.is_required())
        elif annotation is date:
            yield Column(path, "date", required=info.is_required())
        else:
            yield Column(path, "text", required=info.is_required())


def layout() -> list[Sheet]:
    """Every sheet of the workbook, generated from the dossier model."""
    sheets: list[Sheet] = []
    for kind, model in KINDS.items():
        main: list[Column] = []
        groups: list[Sheet] = []
        for part in _columns(model):
            if isinstance(part, Column):
                if part.path != ("kind",):
                    main.append(part)
                continue
            name, item = part
            main.append(Column((f"{name}:none",), "bool", ("true", "false")))
            groups.append(
                Sheet(name, kind, (Column(("dossier_id",), "text", required=True), *(c for c in _columns(item) if isinstance(c, Column))), group=name)
            )
        sheets.append(Sheet(SHEETS[kind], kind, tuple(main)))
        sheets.extend(groups)
    return sheets


# --------------------------------------------------------------------------- writing


def write_workbook(dossiers: Iterable[dict[str, Any]], path: Path) -> None:
    """A workbook holding ``dossiers`` (none: the empty template), with headers, drop-down lists and frozen headers."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    book.remove(book.worksheets[0])  # the default sheet: every sheet is named by the layout
    sheets = layout()
    by_name = {}
    for sheet in sheets:
        ws = book.create_sheet(sheet.name)
        ws.append([c.japanese(sheet.group) for c in sheet.columns])
        ws.append([c.key for c in sheet.columns])
        ws.freeze_panes = "A3"
        for index, column in enumerate(sheet.columns, 1):
            letter = get_column_letter(index)
            ws.column_dimensions[letter].width = max(12, min(40, len(column.key) + 2))
            if column.choices:
                check = DataValidation(type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True)
                check.error = f"{column.japanese(sheet.group)}: {column.expected()}"
                check.errorTitle = column.key
                check.prompt = _prompt(column)
                check.showInputMessage = True
                ws.add_data_validation(check)
                check.add(f"{letter}3:{letter}{VALIDATED_ROWS + 2}")
        by_name[sheet.name] = (sheet, ws)
    _values_sheet(book.create_sheet(VALUES_SHEET), sheets)
    for dossier in dossiers:
        main, ws = by_name[SHEETS[dossier["kind"]]]
        ws.append([_cell(dossier, c) for c in main.columns])
        for sheet, group_ws in by_name.values():
            if sheet.kind == dossier["kind"] and sheet.group:
                for item in dossier.get(sheet.group) or ():
                    group_ws.append([dossier["dossier_id"], *(_cell(item, c) for c in sheet.columns[1:])])
    with private_output(path) as handle:
        book.save(handle)


def _labels(column: Column) -> dict[str, tuple[str, str]]:
    """Japanese and English labels of a column's values (booleans read as themselves)."""
    if column.kind == "bool":
        return {"true": ("はい", "yes"), "false": ("いいえ", "no")}
    return labels_for(frozenset(column.choices)) or {}


def _prompt(column: Column) -> str:
    """The note Excel shows on a drop-down cell: each code with its Japanese label (Excel allows 255 characters)."""
    table = _labels(column)
    text = "; ".join(f"{value} = {table[value][0]}" if value in table else value for value in column.choices)
    return text if len(text) <= 255 else text[:254] + "…"


def _values_sheet(ws: Any, sheets: list[Sheet]) -> None:
    """A sheet listing every value a drop-down accepts, with its Japanese and English label (the import ignores it)."""
    ws.append(["列", "値", "日本語", "English"])
    ws.append(["column", "value", "ja", "en"])
    seen: set[str] = set()
    for sheet in sheets:
        for column in sheet.columns:
            if column.choices and column.key not in seen:
                seen.add(column.key)
                table = _labels(column)
                for value in column.choices:
                    ja, en = table.get(value, (value, value))
                    ws.append([column.key, value, ja, en])


def _cell(data: dict[str, Any], column: Column) -> Any:
    """The cell value of ``column`` for a dossier or list item (text that looks like a formula stays text)."""
    if column.key.endswith(":none"):
        group = column.key[: -len(":none")]
        return True if data.get(group) == [] else None
    value: Any = data
    for part in column.path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if column.kind == "list" and isinstance(value, list):
        return guard(", ".join(str(v) for v in value))
    return guard(value)


# --------------------------------------------------------------------------- reading


@dataclass
class Imported:
    """What an import produced: the dossiers without problems, and every problem, by cell."""

    dossiers: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rejected: int = 0


@dataclass
class _Draft:
    """A dossier being assembled, with the cell each value came from."""

    data: dict[str, Any]
    row: int
    cells: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    items: dict[str, list[int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def read_workbook(path: Path) -> Imported:
    """Dossiers from a filled workbook; each bad cell a problem naming sheet, row and column, good dossiers kept.

    A dossier with any problem (in its row or its group rows) is left out, so
    no half-read dossier is ever screened.
    """
    source = str(path)
    result = Imported()
    drafts: dict[str, _Draft] = {}
    sheets = layout()
    with open_input(path) as handle:
        _check_archive(handle, source)
        try:
            _read_sheets(handle, sheets, source, drafts, result)
        except DAMAGED as exc:  # openpyxl's parser meets what no spreadsheet program writes: one line, never a traceback
            raise InputError([Problem(source, _("damaged workbook: {error}", error=excerpt(str(exc) or type(exc).__name__)), kind="syntax")]) from None
    for draft in drafts.values():
        problems = draft.problems or _validate(draft, source, sheets)
        if problems:
            result.problems.extend(problems)
            result.rejected += 1
        else:
            result.dossiers.append(draft.data)
    return result


DAMAGED = (zipfile.BadZipFile, ParseError, KeyError, ValueError, TypeError, AttributeError, IndexError, ArithmeticError, EOFError, zlib.error, OSError)
"""What openpyxl raises on a damaged or crafted workbook (bad XML, missing parts, wrong types, truncated zip)."""


def _check_archive(handle: BinaryIO, source: str) -> None:
    """Refuse, before openpyxl reads anything, a workbook too large to read or holding a DTD.

    The sizes are those the archive declares for each part: a part is never
    read past its declared size (:mod:`zipfile` stops there), so they bound
    what decompressing can cost. A DTD can declare entities that expand a few
    bytes into gigabytes, and no spreadsheet program writes one: any part that
    holds one is refused.
    """
    size = os.fstat(handle.fileno()).st_size
    if size > MAX_WORKBOOK_BYTES:
        raise InputError([Problem(source, _("larger than {limit} bytes, the limit for a workbook; refused", limit=MAX_WORKBOOK_BYTES), kind="too_large")])
    try:
        with zipfile.ZipFile(handle) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_PARTS or sum(p.file_size for p in parts) > MAX_UNZIPPED_BYTES:
                message = _("the workbook decompresses to more than {limit} bytes or {parts} parts; refused", limit=MAX_UNZIPPED_BYTES, parts=MAX_PARTS)
                raise InputError([Problem(source, message, kind="too_large")])
            for part in parts:
                if part.filename.endswith((".xml", ".rels")) and _declares_a_dtd(archive, part):
                    message = _("part {part} of the workbook declares a DTD (<!DOCTYPE>), which no spreadsheet program writes; refused", part=part.filename)
                    raise InputError([Problem(source, excerpt(message, 4 * MAX_QUOTED), kind="syntax")])
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
        raise InputError([Problem(source, _("not an Excel workbook (.xlsx): {error}", error=excerpt(str(exc))), kind="syntax")]) from None
    handle.seek(0)


_DTD_MARKS = tuple(mark.encode(encoding) for mark in ("<!DOCTYPE", "<!ENTITY") for encoding in ("utf-8", "utf-16-le", "utf-16-be"))
"""What starts a DTD or an entity declaration, in every encoding an XML part may use."""


def _declares_a_dtd(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> bool:
    """Whether a DTD or entity declaration occurs anywhere in the part, read in chunks (each overlaps the last)."""
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(1 << 20):
            window = tail + chunk
            if any(mark in window for mark in _DTD_MARKS):
                return True
            tail = window[-32:]
    return False


def _read_sheets(handle: BinaryIO, sheets: list[Sheet], source: str, drafts: dict[str, _Draft], result: Imported) -> None:
    """Every sheet of the layout the workbook has, into ``drafts``; a sheet left out holds no rows."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except InvalidFileException as exc:
        raise InputError([Problem(source, _("not an Excel workbook (.xlsx): {error}", error=excerpt(str(exc))), kind="syntax")]) from None
    try:
        budget = _TextBudget(source)
        for sheet in sheets:
            if sheet.name not in book.sheetnames:
                continue
            ws = book[sheet.name]
            ws.reset_dimensions()  # the declared dimension may lie (A1:D5 over 200 rows): read every row the sheet holds
            rows = _rows(ws, sheet, source, result, budget)
            if sheet.group is None:
                _read_main(sheet, rows, source, drafts, result)
            else:
                _read_group(sheet, rows, source, drafts, result)
    finally:
        book.close()


@dataclass(frozen=True)
class TooLong:
    """A cell longer than :data:`MAX_CELL_CHARS`: what stands for it, so its text is neither copied nor kept."""

    chars: int


@dataclass
class _TextBudget:
    """Characters of cell text read so far in one workbook, refused past :data:`MAX_TEXT_CHARS`."""

    source: str
    used: int = 0

    def take(self, value: Any) -> Any:
        """``value``, counted; a text longer than a cell may hold becomes :class:`TooLong`."""
        if not isinstance(value, str):
            return value
        if len(value) > MAX_CELL_CHARS:
            self.used += MAX_CELL_CHARS
            value = TooLong(len(value))
        else:
            self.used += len(value)
        if self.used > MAX_TEXT_CHARS:
            message = _("the workbook holds more than {limit} characters of text; split it", limit=MAX_TEXT_CHARS)
            raise InputError([Problem(self.source, message, kind="too_large")])
        return value


def _rows(ws: Any, sheet: Sheet, source: str, result: Imported, budget: _TextBudget) -> Iterator[tuple[int, dict[str, tuple[Any, str]]]]:
    """Data rows as (row number, key -> (value, column letter)), by the keys of row 2; blank rows skipped."""
    from openpyxl.utils import get_column_letter

    keys: list[str | None] = []
    known = {c.key for c in sheet.columns}
    for number, values in enumerate(ws.iter_rows(values_only=True), 1):
        if number == 1:
            continue
        if number == 2:
            keys = [str(v).strip() if v is not None else None for v in values]
            for index, key in enumerate(keys, 1):
                if key is not None and key not in known:
                    message = _(
                        "sheet {sheet}, column {column}: unknown column key {key}; it was not read", sheet=sheet.name, column=get_column_letter(index), key=key
                    )
                    result.problems.append(Problem(source, message, kind="schema", line=2))
            continue
        if number > MAX_ROWS + 2:
            raise InputError(
                [Problem(source, _("sheet {sheet} has more than {limit} rows; split the workbook", sheet=sheet.name, limit=MAX_ROWS), kind="too_large")]
            )
        cells: dict[str, tuple[Any, str]] = {}
        for index, (key, value) in enumerate(zip(keys, values, strict=False), 1):
            if key is not None and key in known and value is not None and value != "":
                cells[key] = (budget.take(value), get_column_letter(index))
        if cells:
            yield number, cells


def _read_main(sheet: Sheet, rows: Iterable[tuple[int, dict[str, tuple[Any, str]]]], source: str, drafts: dict[str, _Draft], result: Imported) -> None:
    for number, cells in rows:
        draft = _Draft({"kind": sheet.kind}, number)
        for column in sheet.columns:
            if column.key not in cells:
                continue
            value, letter = cells[column.key]
            where = (sheet.name, number, letter)
            parsed = _parse(value, column, source, where, draft)
            if column.key.endswith(":none"):
                if parsed is True:
                    draft.data[column.key[: -len(":none")]] = []
                    draft.cells["/" + column.key[: -len(":none")]] = where
                continue
            if parsed is not None:
                _put(draft.data, column.path, parsed)
                draft.cells["/" + "/".join(column.path)] = where
        dossier_id = draft.data.get("dossier_id")
        if not isinstance(dossier_id, str):
            result.problems.append(
                _problem(source, (sheet.name, number, cells.get("dossier_id", (None, "A"))[1]), _("dossier_id is required: the row was not imported"))
            )
            continue
        if dossier_id in drafts:
            twice = _("dossier_id {id} is also on row {row}: ids must be unique", id=dossier_id, row=drafts[dossier_id].row)
            drafts[dossier_id].problems.append(_problem(source, (sheet.name, number, cells["dossier_id"][1]), twice))
            continue
        drafts[dossier_id] = draft


def _read_group(sheet: Sheet, rows: Iterable[tuple[int, dict[str, tuple[Any, str]]]], source: str, drafts: dict[str, _Draft], result: Imported) -> None:
    group = typing.cast(str, sheet.group)
    for number, cells in rows:
        raw_id, letter = cells.get("dossier_id", (None, "A"))
        draft = drafts.get(str(raw_id)) if raw_id is not None else None
        if draft is None or draft.data.get("kind") != sheet.kind:
            orphan = _("dossier_id {id} is not on the {main} sheet: the row belongs to no dossier", id=repr(raw_id), main=SHEETS[sheet.kind])
            result.problems.append(_problem(source, (sheet.name, number, letter), orphan))
            continue
        items = draft.data.setdefault(group, [])
        if draft.cells.get("/" + group) and not draft.items.get(group):
            conflict = _("{group}:none says there are none, but sheet {sheet} has rows for {id}", group=group, sheet=sheet.name, id=raw_id)
            draft.problems.append(_problem(source, draft.cells["/" + group], conflict))
        index = len(items)
        item: dict[str, Any] = {}
        for column in sheet.columns[1:]:
            if column.key in cells:
                value, col = cells[column.key]
                where = (sheet.name, number, col)
                parsed = _parse(value, column, source, where, draft)
                if parsed is not None:
                    _put(item, column.path, parsed)
                    draft.cells[f"/{group}/{index}/" + "/".join(column.path)] = where
        items.append(item)
        draft.items.setdefault(group, []).append(number)


def _parse(value: Any, column: Column, source: str, where: tuple[str, int, str], draft: _Draft) -> Any:
    """A cell's value as JSON data of the column's kind; a problem on the draft (and None) when it cannot be."""
    if isinstance(value, TooLong):
        too_long = _("{key}: the cell holds {chars} characters; a cell holds at most {limit}", key=column.key, chars=value.chars, limit=MAX_CELL_CHARS)
        draft.problems.append(_problem(source, where, too_long))
        return None
    text = value.strip() if isinstance(value, str) else value
    if column.kind == "bool":
        if isinstance(text, bool):
            return text
        if isinstance(text, str) and text.lower() in ("true", "false"):
            return text.lower() == "true"
    elif column.kind == "number":
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            return text
        if isinstance(text, str):
            try:
                return float(text) if any(c in text for c in ".eE") else int(text)
            except ValueError:
                pass
    elif column.kind == "date":
        if isinstance(text, datetime):
            return text.date().isoformat()
        if isinstance(text, date):
            return text.isoformat()
        if isinstance(text, str):
            try:
                return date.fromisoformat(text).isoformat()
            except ValueError:
                pass
    elif column.kind == "list":
        return [part.strip() for part in str(text).split(",") if part.strip()]
    elif isinstance(text, bool):
        pass
    elif isinstance(text, (int, float)):
        return str(int(text)) if float(text).is_integer() else str(text)
    elif isinstance(text, (datetime, date)):
        return text.date().isoformat() if isinstance(text, datetime) else text.isoformat()
    else:
        text = str(text)
        return unguard(text)
    draft.problems.append(
        _problem(source, where, _("{key}: expected {expected}, found {value}", key=column.key, expected=column.expected(), value=quote(value)))
    )
    return None


def _put(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data.setdefault(part, {})
    data[path[-1]] = value


def _problem(source: str, where: tuple[str, int, str], message: str) -> Problem:
    sheet, row, column = where
    return Problem(source, _("sheet {sheet}, row {row}, column {column}: {message}", sheet=sheet, row=row, column=column, message=message), kind="schema")


def _validate(draft: _Draft, source: str, sheets: list[Sheet]) -> list[Problem]:
    """The schema's verdict on the assembled dossier, each problem placed at its cell (or its row)."""
    try:
        check_dossier_data(draft.data, source)
    except InputError as exc:
        return [_locate(draft, p, sheets) for p in exc.problems]
    return []


def _locate(draft: _Draft, problem: Problem, sheets: list[Sheet]) -> Problem:
    """The cell a schema problem is about: its own cell, or the column it should be in on the right row."""
    pointer = problem.pointer or ""
    parts = [p for p in pointer.split("/") if p]
    kind = draft.data.get("kind")
    main = next(s for s in sheets if s.kind == kind and s.group is None)
    if pointer in draft.cells:
        where = draft.cells[pointer]
    elif parts and parts[0] in draft.items and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(draft.items[parts[0]]):
        group = next(s for s in sheets if s.kind == kind and s.group == parts[0])
        where = (group.name, draft.items[parts[0]][int(parts[1])], _letter(group, parts[2:]))
    else:
        where = (main.name, draft.row, _letter(main, parts))
    return _problem(problem.source, where, f"{'.'.join(parts) or 'dossier_id'}: {problem.message}")


def _letter(sheet: Sheet, parts: list[str]) -> str:
    from openpyxl.utils import get_column_letter

    key = ".".join(parts)
    if not key:
        return "-"
    for index, column in enumerate(sheet.columns, 1):
        if column.key == key or column.key.startswith(key + "."):
            return get_column_letter(index)
    return "-"
