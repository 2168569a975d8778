"""The ``report --format xlsx`` workbook: a sheet per view, the dossiers, the findings, and what produced them.

Written with openpyxl's write-only mode: rows go to disk as results are
read, so memory stays bounded whatever the number of results (measured in
the README). Every sheet has its header row frozen, an autofilter over its
columns, widths fitted to the first :data:`FIT_ROWS` rows (capped at
:data:`MAX_WIDTH`) and prints landscape, one page wide, the header on each page; cells hold words in the reader's language, never codes
(:mod:`dossier_rules.labels`), dates are Excel dates, and text that starts
like a formula stays text (:func:`dossier_rules.cells.guard`).
"""

from __future__ import annotations

import getpass
import math
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..cells import guard
from ..labels import label, pointer_label, term
from ..locale import N_, translate
from ..packs import show_value
from ..private_files import private_output
from ..results import Filter, Record, RunFacts, Summary
from . import views

if TYPE_CHECKING:
    from openpyxl import Workbook

FIT_ROWS = 500
"""Rows held back per sheet to fit its column widths before they are written (the rest stream)."""

MAX_WIDTH = 66
"""Widest column, in characters (a SHA-256 and its margin fit on one line); longer text wraps in its cell."""

ROW_HEIGHT = 17
"""Height given to one line of wrapped text, in points: the default row height (15) and room for Japanese glyphs, taller in most fonts."""

MAX_ROWS = 1_048_575
"""Rows of a sheet under its header: Excel opens no more. Past it rows are counted, not written, and the provenance sheet says so."""

DOSSIER_COLUMNS = [
    N_("dossier id"),
    N_("kind"),
    N_("country"),
    N_("outcome"),
    N_("submitted"),
    N_("sector"),
    *views.SEVERITIES,
    N_("rules"),
    N_("articles"),
    N_("intermediaries"),
    N_("source"),
]
"""Headers of the per-dossier sheet (and of ``report --format csv``), one row per selected result."""

FINDING_COLUMNS = [
    N_("dossier id"),
    N_("country"),
    N_("kind"),
    N_("outcome"),
    N_("severity"),
    N_("to share"),
    N_("article"),
    N_("title"),
    N_("rule"),
    N_("message"),
    N_("evidence"),
    N_("intermediary"),
    N_("submitted"),
    N_("source"),
]
"""Headers of the findings sheet: one row per selected finding."""

SHEETS = {"dossiers": N_("by dossier"), "findings": N_("all findings"), "provenance": N_("provenance")}

ENUM_OF_FIELD = {"role": "party_role", "based_in": "country", "nationality": "country", "act": "complaint_act"}
"""Fields whose values are codes of an enumeration named otherwise (:data:`dossier_rules.labels.ENUMS`)."""


class Sheet:
    """One write-only sheet: the header row bold and frozen, widths fitted to the first rows, an autofilter."""

    def __init__(self, book: Workbook, title: str, header: list[str]) -> None:
        self.sheet = book.create_sheet(title=title[:31])
        self.top = self._alignment(wrap=False)
        self.wrap = self._alignment(wrap=True)
        self.header = header
        self.pending: list[list[Any]] | None = []
        self.widths: list[float] = []
        self.rows = 0
        self.written = 0
        """Rows written to the sheet, its header included."""
        self.left_out = 0

    def append(self, row: list[Any]) -> None:
        """Add a row (cells guarded against formulas); the first rows wait until the widths are known."""
        if self.rows >= MAX_ROWS:
            self.left_out += 1
            return
        self.rows += 1
        if self.pending is None:
            self._write(row)
            return
        self.pending.append(row)
        if len(self.pending) >= FIT_ROWS:
            self._flush()

    def close(self) -> None:
        """Write what waits and set the autofilter over every row written."""
        from openpyxl.utils import get_column_letter

        self._flush()
        self.sheet.auto_filter.ref = f"A1:{get_column_letter(len(self.header))}{self.rows + 1}"

    def _flush(self) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        if self.pending is None:
            return
        self.widths = fitted_widths([self.header, *self.pending])
        for index, width in enumerate(self.widths, 1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width
        self.sheet.freeze_panes = "A2"
        self._print_setup()
        bold = Font(bold=True)
        cells = []
        for value in self.header:
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.font = bold
            cells.append(cell)
        self.sheet.append(cells)
        self.written = 1
        pending, self.pending = self.pending, None
        for row in pending:
            self._write(row)

    def _print_setup(self) -> None:
        """Printed, a sheet is landscape, as wide as the page, with its header row on every page."""
        self.sheet.page_setup.orientation = "landscape"
        self.sheet.page_setup.fitToWidth = 1
        self.sheet.page_setup.fitToHeight = 0
        self.sheet.sheet_properties.pageSetUpPr.fitToPage = True
        self.sheet.print_title_rows = "1:1"

    def _write(self, row: list[Any]) -> None:
        """Write one row; a row whose text wraps gets the height of its lines (spreadsheets do not all fit it on opening).

        openpyxl writes a row's height as the row goes out; the entry is then
        dropped, so memory does not grow with the rows.
        """
        lines = 1
        cells = []
        for index, value in enumerate(row):
            cell, height = self._cell(value, self.widths[index] if index < len(self.widths) else MAX_WIDTH)
            cells.append(cell)
            lines = max(lines, height)
        self.written += 1
        number = self.written
        if lines > 1:
            self.sheet.row_dimensions[number].height = min(ROW_HEIGHT * lines, 409)
            cells = [self._top(cell) for cell in cells]
        self.sheet.append(cells)
        self.sheet.row_dimensions.pop(number, None)

    def _top(self, value: Any) -> Any:
        """A cell of a row higher than one line, aligned to the top with the wrapped text beside it."""
        from openpyxl.cell.cell import Cell

        if isinstance(value, Cell) or value is None:
            return value
        return self._aligned(value, self.top)

    def _cell(self, value: Any, width: float) -> tuple[Any, int]:
        """The cell of ``value`` (guarded, set to wrap when wider than its column or holding lines) and its lines once wrapped."""
        value = guard(value)
        if not isinstance(value, str) or (2 * len(value) < width and "\n" not in value):  # fits even if every character is wide
            return value, 1
        lines = sum(max(1, math.ceil(display_width(line) / max(width - 1, 1))) for line in value.split("\n"))
        if lines == 1:
            return value, 1
        return self._aligned(value, self.wrap), lines

    def _aligned(self, value: Any, alignment: int) -> Any:
        """A cell holding ``value`` with the alignment of index ``alignment`` (see :meth:`_alignment`)."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles.cell_style import StyleArray

        cell: Any = WriteOnlyCell(self.sheet, value=value)  # its style array is openpyxl's own (no stub)
        if cell._style is None:  # a date has one already, with its number format
            cell._style = StyleArray()
        cell._style.alignmentId = alignment
        return cell

    def _alignment(self, wrap: bool) -> int:
        """The workbook's index of a top alignment (wrapping or not).

        Cells take the index directly: setting ``cell.alignment`` hashes the
        alignment for every cell, which was most of the time of a large
        findings sheet; the number format a date cell got stays as it is.
        """
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment

        probe: Any = WriteOnlyCell(self.sheet)
        probe.alignment = Alignment(wrap_text=wrap, vertical="top")
        return int(probe._style.alignmentId)


def fitted_widths(rows: Iterable[list[Any]]) -> list[float]:
    """Column widths for ``rows``: the widest cell of each column (CJK characters count two), plus a margin, at most :data:`MAX_WIDTH`."""
    widths: list[int] = []
    for row in rows:
        for index, value in enumerate(row):
            if index >= len(widths):
                widths.append(0)
            widths[index] = max(widths[index], display_width(value))
    return [min(MAX_WIDTH, max(6, w + 2)) for w in widths]


def display_width(value: Any) -> int:
    """How many character cells a value takes in a spreadsheet column (dates: 10; the longest line of text)."""
    if value is None:
        return 0
    if isinstance(value, (date, datetime)):
        return 10 if isinstance(value, date) and not isinstance(value, datetime) else 19
    text = views.text(value)
    return max((len(line) + len(WIDE.findall(line)) for line in text.splitlines()), default=0)


WIDE = re.compile(
    "[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"
)
"""Characters East Asian Width calls wide or full-width (CJK, kana, Hangul, full-width forms): two cells each.
A regular expression counts them in C; :func:`unicodedata.east_asian_width` per character was the slowest step."""


# --------------------------------------------------------------------------- rows


def dossier_row(record: Record, chosen: Filter, lang: str) -> list[Any]:
    """One row of the per-dossier view: the selected findings' counts, rules, articles and parties."""
    state = term(record.get("outcome") or "unreadable", lang, "outcome")
    if "errors" in record:
        return [None, None, None, state, None, None, None, None, None, None, None, None, record["source"]]
    found = chosen.findings(record)
    counts = [sum(f["severity"] == s for f in found) for s in views.SEVERITIES]
    parties = sorted({party_words(f["subject"]) for f in found if f.get("subject")})
    return [
        record["dossier_id"],
        label(record["kind"], _lang(lang), "kind"),
        views.country_label(record["country"], lang),
        state,
        views.as_date(record.get("submitted")),
        label(record["sector"], _lang(lang), "sector") if record.get("sector") else None,
        *counts,
        ", ".join(sorted({f["rule_id"] for f in found})),
        ", ".join(sorted({f["article"] for f in found})),
        "; ".join(parties),
        record.get("source"),
    ]


def finding_rows(record: Record, chosen: Filter, lang: str) -> Iterator[list[Any]]:
    """The findings sheet's rows of one result: one per selected finding (none for an unreadable record)."""
    if "errors" in record:
        return
    common = [
        record["dossier_id"],
        views.country_label(record["country"], lang),
        label(record["kind"], _lang(lang), "kind"),
        term(record.get("outcome") or "unreadable", lang, "outcome"),
    ]
    for finding in chosen.findings(record):
        yield [
            *common,
            term(finding["severity"], lang, "severity"),
            translate("yes" if finding["share"] else "no", lang),
            finding["article"],
            _in(finding.get("title"), lang),
            finding["rule_id"],
            _in(finding.get("message"), lang),
            evidence_words(finding.get("evidence") or {}, lang),
            party_words(finding["subject"], lang) if finding.get("subject") else None,
            views.as_date(record.get("submitted")),
            record.get("source"),
        ]


def _in(text: Any, lang: str) -> str | None:
    """A text given in both languages (``{"ja": ..., "en": ...}``), in ``lang``."""
    if isinstance(text, dict):
        return str(text.get(lang) or text.get("en") or "")
    return None if text is None else str(text)


def party_words(subject: Record, lang: str | None = None) -> str:
    """A party as a reader names it: its name, its id in brackets, and (with ``lang``) its role."""
    name, pid = subject.get("name"), subject.get("id")
    words = f"{name} ({pid})" if name and pid else str(name or pid or "")
    if lang and subject.get("role"):
        words += " — " + label(str(subject["role"]), _lang(lang), "party_role")
    return words


def evidence_words(evidence: dict[str, Any], lang: str) -> str:
    """The values that made a rule fire, as field names and values in words (「業務の実態 › 保証金を徴収している：はい」), one per line."""
    lines, colon = [], "：" if lang == "ja" else ": "
    for pointer, value in evidence.items():
        field = next((p for p in reversed(str(pointer).split("/")) if p and not p.isdigit()), "")
        enum = ENUM_OF_FIELD.get(field, field)
        lines.append(f"{pointer_label(str(pointer), lang)}{colon}{show_value(value, _lang(lang), enum)}")
    return "\n".join(lines)


def _lang(lang: str) -> Any:
    return "ja" if lang == "ja" else "en"


# --------------------------------------------------------------------------- the workbook


def write_xlsx(records: Iterator[Record], facts: RunFacts, chosen: Filter, chosen_views: list[str], lang: str, path: Path, results: Path) -> None:
    """The workbook: a sheet per view in ``chosen_views``, then the provenance sheet; dossiers and findings stream."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheets: dict[str, Sheet] = {}
    for view in chosen_views:
        if view in SHEETS:
            columns = DOSSIER_COLUMNS if view == "dossiers" else FINDING_COLUMNS
            sheets[view] = Sheet(book, translate(SHEETS[view], lang), [views.header(c, c, lang) for c in columns])
        else:
            sheets[view] = Sheet(book, views.title(view, lang), views.headers(view, lang))
    summary = Summary(chosen)
    for record in records:
        if not summary.add(record):
            continue
        if "dossiers" in sheets:
            sheets["dossiers"].append(dossier_row(record, chosen, lang))
        if "findings" in sheets:
            for row in finding_rows(record, chosen, lang):
                sheets["findings"].append(row)
    for view, sheet in sheets.items():
        if view not in SHEETS:
            for row in views.rows(summary, view, lang):
                sheet.append(row)
        sheet.close()
    write_provenance(book, facts, chosen, lang, results, [s for s in sheets.values() if s.left_out])
    path.parent.mkdir(parents=True, exist_ok=True)
    with private_output(path) as handle:
        book.save(handle)


def write_provenance(book: Workbook, facts: RunFacts, chosen: Filter, lang: str, results: Path, full: Iterable[Sheet] = ()) -> None:
    """The sheet that says what produced the workbook: program, run, as-of, packs, registries, filters, when and by whom,
    and which sheets are full (``full``: more rows than Excel opens)."""
    sheet = Sheet(book, translate(SHEETS["provenance"], lang), [translate(N_("fact"), lang), translate(N_("value"), lang), "", "", ""])

    def t(text: str) -> str:
        return translate(text, lang)

    if facts.sample:
        sheet.append([t(N_("⚠ fictional sample data")), t(N_("a registry this run used is a fictional sample, not the published list: not a real screening"))])
    for cut in full:
        sheet.append(
            [
                t(N_("⚠ sheet full")),
                _fmt(
                    t(N_("{sheet}: the first {rows} rows; {left} more left out (Excel opens no more): use --format csv or jsonl")),
                    sheet=cut.sheet.title,
                    rows=f"{cut.rows:,}",
                    left=f"{cut.left_out:,}",
                ),
            ]
        )
    sheet.append([t(N_("written by")), f"dossier-rules {__version__}"])
    sheet.append([t(N_("written at (UTC)")), datetime.now(UTC).replace(microsecond=0, tzinfo=None)])
    sheet.append([t(N_("written for (user)")), _user()])
    sheet.append([t(N_("results file")), str(results)])
    sheet.append([t(N_("screened by")), ", ".join(f"dossier-rules {v}" for v in sorted(facts.programs)) or None])
    sheet.append([t(N_("rule backend")), facts.backend])
    sheet.append([t(N_("screening started (UTC)")), _datetime(facts.started_at)])
    sheet.append([t(N_("as-of date")), views.as_date(facts.as_of) or facts.as_of_words()])
    sheet.append([t(N_("max registry age (days)")), facts.max_registry_age])
    sheet.append([t(N_("input")), facts.input])
    sheet.append([t(N_("input records, bytes, sha256")), facts.input_records, facts.input_bytes, facts.input_sha256])
    sheet.append([t(N_("filters")), filter_words(chosen, lang) or t(N_("none: every result"))])
    sheet.append([])
    sheet.append([t(N_("pack")), t(N_("version")), "sha256"])
    for pack in facts.packs.values():
        sheet.append([pack["id"], pack["version"], pack["sha256"]])
    sheet.append([])
    sheet.append([t(N_("registry")), t(N_("retrieved on")), t(N_("entries")), t(N_("fictional sample data")), "sha256"])
    for key, used in facts.registries.items():
        sample = t("yes" if used.get("sample") else "no") if used.get("sha256") else t(N_("not loaded"))
        sheet.append([registry_words(key, lang), views.as_date(used.get("retrieved_on")), used.get("entries"), sample, used.get("sha256")])
    sheet.close()


def registry_words(key: str, lang: str) -> str:
    """A registry of a run (``KG accredited-agencies``) in words: キルギスの認定送出機関一覧, Kyrgyzstan: accredited sending agencies."""
    country, _, kind = key.partition(" ")
    place, name = views.country_label(country, lang) or country, term(kind, lang, "registry")
    return f"{place}の{name}" if lang == "ja" else f"{place}: {name}"


def _fmt(text: str, **params: Any) -> str:
    return text.format(**params)


def _user() -> str | None:
    """Who ran ``report`` (the login name), for the provenance sheet; ``None`` when the system cannot say."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return None


def _datetime(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None) if text else None
    except ValueError:
        return None


FILTER_NAMES = {
    "countries": N_("country"),
    "kinds": N_("kind"),
    "outcomes": N_("outcome"),
    "sectors": N_("sector"),
    "submitted_from": N_("submitted from"),
    "submitted_to": N_("submitted to"),
    "severities": N_("severity"),
    "rules": N_("rule"),
    "articles": N_("article"),
    "intermediaries": N_("intermediary"),
}


def filter_words(chosen: Filter, lang: str) -> str:
    """The filter as a reader reads it: ``国: カンボジア; 判定: 不適合あり``; empty when it selects everything."""
    parts = []
    for name, header in FILTER_NAMES.items():
        value = getattr(chosen, name)
        if not value:
            continue
        if isinstance(value, date):
            shown = value.isoformat()
        else:
            shown = ", ".join(_filter_value(name, v, lang) for v in sorted(value))
        parts.append(f"{translate(header, lang)}: {shown}")
    return "; ".join(parts)


def _filter_value(name: str, value: str, lang: str) -> str:
    if name == "countries":
        return views.country_label(value, lang) or value
    if name == "outcomes":
        return term(value, lang, "outcome")
    if name == "severities":
        return term(value, lang, "severity")
    if name in ("kinds", "sectors"):
        return label(value, _lang(lang), name[:-1])
    return value
