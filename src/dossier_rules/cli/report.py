"""``report``: filter a results file and show it by outcome, country, article, rule, intermediary and dossier.

Filtering and counting are :mod:`dossier_rules.results` (the same code the
screening service uses); this module only reads the options and writes the
table, CSV, XLSX, JSON or JSON Lines. Everything streams: a results file of
any length is read once, and only the summary (bounded, see
:data:`dossier_rules.results.MAX_GROUPS`) is held.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import click
import orjson

from ..cells import guard_row
from ..locale import _, language
from ..private_files import private_text
from ..problems import InputError
from ..report import OUTCOMES
from ..results import Filter, Record, RunFacts, Summary, read_results, read_run
from . import views
from .common import EXIT_INPUT, EXIT_OK, PIPE_WIDTH, console, print_problems
from .language import lang_option

ALL_VIEWS = (*views.VIEWS, "dossiers", "findings")


def _date(ctx: click.Context, param: click.Parameter, value: datetime | None) -> Any:
    return value.date() if value else None


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The filter options of :class:`dossier_rules.results.Filter`, repeatable, for every command that filters results."""
    options = [
        click.option("--country", "countries", multiple=True, help="Partner country, by its two-letter code (one a pack covers); repeat for several."),
        click.option("--kind", "kinds", multiple=True, type=click.Choice(["candidate", "broker"])),
        click.option("--outcome", "outcomes", multiple=True, type=click.Choice(list(OUTCOMES))),
        click.option("--severity", "severities", multiple=True, type=click.Choice(["block", "warn", "info"]), help="Findings of this severity."),
        click.option("--rule", "rules", multiple=True, help="Findings of this rule id."),
        click.option("--article", "articles", multiple=True, help="Findings under this article, e.g. 'MOC-KH 4(1)' (includes 4(1)(a)-(e))."),
        click.option(
            "--intermediary",
            "intermediaries",
            multiple=True,
            help="Findings about this party: its id or its name (case, spacing, full-width letters and legal-form words such as Co., Ltd. ignored).",
        ),
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
    "--view",
    "chosen_views",
    multiple=True,
    type=click.Choice(ALL_VIEWS),
    help="Views to show (repeat); default: all summary views, plus dossiers and findings for xlsx.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "xlsx", "json", "jsonl"]),
    default="table",
    show_default=True,
    help="csv: one view (default dossiers); xlsx: a sheet per view and one saying what produced it; json: the summary; jsonl: the selected results themselves.",
)
@click.option(
    "--excel/--no-excel",
    default=None,
    help="CSV for Excel: UTF-8 with a byte order mark and CRLF line ends  [default: on with --lang ja or a Japanese locale, else off]",
)
@lang_option
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write here instead of standard output (required for xlsx).")
def report_command(results_file: Path, chosen_views: tuple[str, ...], fmt: str, excel: bool | None, output: Path | None, **options: Any) -> None:
    """Filter RESULTS (a batch or check --format jsonl output) and summarise it for examiners.

    Views: by outcome, country, article, rule, intermediary (candidates, acts,
    countries, first and last seen) and one row per dossier. Exit 0, or 2
    when RESULTS cannot be read.
    """
    chosen = filter_from(options)
    lang = language()
    if fmt == "csv" and len(chosen_views) > 1:
        raise click.UsageError(_("--format csv writes one view: give one --view"))
    if excel is None:
        excel = lang == "ja"
    try:
        if fmt == "xlsx":
            if output is None:
                raise click.UsageError(_("--format xlsx needs --output FILE.xlsx"))
            from .workbook import write_xlsx

            facts = RunFacts()
            write_xlsx(read_run(results_file, facts), facts, chosen, list(chosen_views) or list(ALL_VIEWS), lang, output, results_file)
        else:
            with _out(output, excel and fmt == "csv") as stream:
                write_text(read_results(results_file, self_contained=fmt == "jsonl"), chosen, fmt, list(chosen_views), lang, stream)
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    raise SystemExit(EXIT_OK)


class _out:
    """Standard output, or a private file (0600) that replaces ``path`` once complete; for Excel, UTF-8 with a byte order mark.

    Excel in a Japanese locale reads a CSV without a byte order mark as
    Shift_JIS (mojibake); with one, as UTF-8.
    """

    def __init__(self, path: Path | None, excel: bool = False):
        self.path = path
        self.encoding = "utf-8-sig" if excel else "utf-8"
        self.file: AbstractContextManager[IO[str]] | None = None
        self.wrapper: io.TextIOWrapper | None = None

    def __enter__(self) -> IO[str]:
        if self.path:
            self.file = private_text(self.path, self.encoding)
            return self.file.__enter__()
        if self.encoding != "utf-8":
            self.wrapper = io.TextIOWrapper(sys.stdout.buffer, encoding=self.encoding, newline="", write_through=True)
            return self.wrapper
        return sys.stdout

    def __exit__(self, *exc: Any) -> None:
        if self.file is not None:
            self.file.__exit__(*exc)
        elif self.wrapper is not None:
            self.wrapper.flush()
            self.wrapper.detach()  # standard output stays open


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
        writer = csv.writer(stream, lineterminator="\r\n")
        if view in ("dossiers", "findings"):
            from . import workbook

            columns = workbook.DOSSIER_COLUMNS if view == "dossiers" else workbook.FINDING_COLUMNS
            writer.writerow([views.header(c, c, lang) for c in columns])
            for record in selected:
                found = [workbook.dossier_row(record, chosen, lang)] if view == "dossiers" else workbook.finding_rows(record, chosen, lang)
                writer.writerows(guard_row(row) for row in found)
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
        if view in ("dossiers", "findings"):
            raise click.UsageError(_("the dossiers and findings views are lists: use --format csv, xlsx or jsonl"))
        out.print(views.table(summary, view, lang))


def console_for(stream: IO[str]) -> Any:
    from rich.console import Console

    return Console(file=stream, width=PIPE_WIDTH, soft_wrap=False, highlight=False)


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
