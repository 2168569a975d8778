"""``report``: filter a results file and show it by outcome, country, article, rule, intermediary and dossier.

Filtering and counting are :mod:`dossier_rules.results` (the same code the
screening service uses); this module only reads the options and writes the
table, CSV, XLSX, JSON or JSON Lines. Everything streams: a results file of
any length is read once, and only the summary (bounded, see
:data:`dossier_rules.results.MAX_GROUPS`) is held.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import click
import orjson

from ..cells import guard_row
from ..locale import _, language
from ..report import OUTCOMES
from ..results import Filter, Record, Summary, read_results
from ..sources import InputError
from . import views
from .common import EXIT_INPUT, EXIT_OK, console, print_problems
from .language import lang_option

DOSSIER_COLUMNS: list[tuple[str, str, str]] = [
    ("dossier_id", "記録番号", "dossier"),
    ("kind", "種別", "kind"),
    ("country", "国", "country"),
    ("outcome", "判定", "outcome"),
    ("submitted", "提出日", "submitted"),
    ("sector", "分野", "sector"),
    ("block", "block", "block"),
    ("warn", "warn", "warn"),
    ("info", "info", "info"),
    ("rules", "規則", "rules"),
    ("articles", "条項", "articles"),
    ("intermediaries", "仲介機関", "intermediaries"),
    ("source", "入力", "source"),
]
"""Columns of the per-dossier view (one row per selected result)."""

ALL_VIEWS = (*views.VIEWS, "dossiers")


def _date(ctx: click.Context, param: click.Parameter, value: datetime | None) -> Any:
    return value.date() if value else None


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The filter options of :class:`dossier_rules.results.Filter`, repeatable, for every command that filters results."""
    options = [
        click.option("--country", "countries", multiple=True, help="Partner country (KH, LA, KG, TJ, PK); repeat for several."),
        click.option("--kind", "kinds", multiple=True, type=click.Choice(["candidate", "broker"])),
        click.option("--outcome", "outcomes", multiple=True, type=click.Choice(list(OUTCOMES))),
        click.option("--severity", "severities", multiple=True, type=click.Choice(["block", "warn", "info"]), help="Findings of this severity."),
        click.option("--rule", "rules", multiple=True, help="Findings of this rule id."),
        click.option("--article", "articles", multiple=True, help="Findings under this article, e.g. 'MOC-KH 4(1)' (includes 4(1)(a)-(e))."),
        click.option("--intermediary", "intermediaries", multiple=True, help="Findings about this party: its id, or its name (case and spacing ignored)."),
        click.option("--sector", "sectors", multiple=True),
        click.option("--submitted-from", type=click.DateTime(formats=["%Y-%m-%d"]), callback=_date, help="Submitted on or after (YYYY-MM-DD)."),
        click.option("--submitted-to", type=click.DateTime(formats=["%Y-%m-%d"]), callback=_date, help="Submitted on or before (YYYY-MM-DD)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


FILTER_NAMES = ("countries", "kinds", "outcomes", "severities", "rules", "articles", "intermediaries", "sectors", "submitted_from", "submitted_to")


def filter_from(options: dict[str, Any]) -> Filter:
    """The filter the options describe; removes them from ``options``."""
    return Filter.of(**{name: options.pop(name) for name in FILTER_NAMES})


@click.command("report")
@click.argument("results_file", metavar="RESULTS", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@filter_options
@click.option(
    "--view", "chosen_views", multiple=True, type=click.Choice(ALL_VIEWS), help="Views to show (repeat); default: all summary views, plus dossiers for xlsx."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "xlsx", "json", "jsonl"]),
    default="table",
    show_default=True,
    help="csv: one view (default dossiers); xlsx: a sheet per view; json: the summary; jsonl: the selected results themselves.",
)
@lang_option
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write here instead of standard output (required for xlsx).")
def report_command(results_file: Path, chosen_views: tuple[str, ...], fmt: str, output: Path | None, **options: Any) -> None:
    """Filter RESULTS (a batch or check --format jsonl output) and summarise it for examiners.

    Views: by outcome, country, article, rule, intermediary (candidates, acts,
    countries, first and last seen) and one row per dossier. Exit 0, or 2
    when RESULTS cannot be read.
    """
    chosen = filter_from(options)
    lang = language()
    if fmt == "xlsx" and output is None:
        raise click.UsageError(_("--format xlsx needs --output FILE.xlsx"))
    if fmt == "csv" and len(chosen_views) > 1:
        raise click.UsageError(_("--format csv writes one view: give one --view"))
    try:
        if fmt == "xlsx":
            write_xlsx(read_results(results_file), chosen, list(chosen_views) or list(ALL_VIEWS), lang, output)  # type: ignore[arg-type]
        else:
            with _out(output) as stream:
                write_text(read_results(results_file, self_contained=fmt == "jsonl"), chosen, fmt, list(chosen_views), lang, stream)
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    raise SystemExit(EXIT_OK)


class _out:
    """Standard output, or a file opened for writing (closed on exit)."""

    def __init__(self, path: Path | None):
        self.path = path
        self.stream: IO[str] | None = None

    def __enter__(self) -> IO[str]:
        self.stream = self.path.open("w", encoding="utf-8", newline="") if self.path else sys.stdout
        return self.stream

    def __exit__(self, *exc: object) -> None:
        if self.path and self.stream:
            self.stream.close()


def summarised(records: Iterator[Record], summary: Summary) -> Iterator[Record]:
    """The results the summary's filter selects, counted into it as they pass."""
    for record in records:
        if summary.add(record):
            yield record


def write_text(records: Iterator[Record], chosen: Filter, fmt: str, chosen_views: list[str], lang: str, stream: IO[str]) -> None:
    summary = Summary(chosen)
    selected = summarised(records, summary)
    if fmt == "jsonl":
        for record in selected:
            stream.write(orjson.dumps(record).decode() + "\n")
        return
    if fmt == "csv":
        view = chosen_views[0] if chosen_views else "dossiers"
        writer = csv.writer(stream)
        if view == "dossiers":
            writer.writerow(dossier_headers(lang))
            writer.writerows(guard_row(dossier_row(r, chosen, lang)) for r in selected)
        else:
            _drain(selected)
            writer.writerow(views.headers(view, lang))
            writer.writerows(guard_row(row) for row in views.rows(summary, view, lang))
        return
    _drain(selected)
    if fmt == "json":
        stream.write(orjson.dumps({"filter": _filter_json(chosen), "summary": summary.to_json()}, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    out = console() if stream is sys.stdout else console_for(stream)
    for view in chosen_views or views.VIEWS:
        if view == "dossiers":
            raise click.UsageError(_("the dossiers view is a list: use --format csv, xlsx or jsonl"))
        out.print(views.table(summary, view, lang))


def console_for(stream: IO[str]) -> Any:
    from rich.console import Console

    return Console(file=stream, width=160, soft_wrap=False, highlight=False)


def _drain(records: Iterator[Record]) -> None:
    for _record in records:
        pass


def _filter_json(chosen: Filter) -> Record:
    out: Record = {}
    for name in FILTER_NAMES:
        value = getattr(chosen, name)
        if value:
            out[name] = value.isoformat() if hasattr(value, "isoformat") else sorted(value)
    return out


def dossier_headers(lang: str) -> list[str]:
    return [ja if lang == "ja" else en for _, ja, en in DOSSIER_COLUMNS]


def dossier_row(record: Record, chosen: Filter, lang: str) -> list[Any]:
    """One row of the per-dossier view: the selected findings' counts, rules, articles and parties."""
    state = record.get("outcome") or "unreadable"
    label = views.OUTCOME_LABELS.get(state, (state, state))[0 if lang == "ja" else 1]
    if "errors" in record:
        return [None, None, None, label, None, None, None, None, None, None, None, None, record["source"]]
    found = chosen.findings(record)
    counts = {s: sum(f["severity"] == s for f in found) for s in ("block", "warn", "info")}
    parties = sorted({str(f["subject"].get("id") or f["subject"].get("name")) for f in found if f.get("subject")})
    return [
        record["dossier_id"],
        record["kind"],
        record["country"],
        label,
        record.get("submitted"),
        record.get("sector"),
        counts["block"],
        counts["warn"],
        counts["info"],
        ", ".join(sorted({f["rule_id"] for f in found})),
        ", ".join(sorted({f["article"] for f in found})),
        ", ".join(parties),
        record.get("source"),
    ]


def write_xlsx(records: Iterator[Record], chosen: Filter, chosen_views: list[str], lang: str, path: Path) -> None:
    """A workbook with a sheet per view, streamed (openpyxl write-only): the dossiers sheet fills as results are read."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheets = {view: book.create_sheet(title=_sheet_title(view, lang)) for view in chosen_views}
    summary = Summary(chosen)
    selected = summarised(records, summary)
    if "dossiers" in sheets:
        sheets["dossiers"].append(dossier_headers(lang))
        for record in selected:
            sheets["dossiers"].append(guard_row(dossier_row(record, chosen, lang)))
    else:
        _drain(selected)
    for view in chosen_views:
        if view != "dossiers":
            sheets[view].append(views.headers(view, lang))
            for row in views.rows(summary, view, lang):
                sheets[view].append(guard_row(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def _sheet_title(view: str, lang: str) -> str:
    if view == "dossiers":
        return "記録別" if lang == "ja" else "by dossier"
    return views.title(view, lang)
