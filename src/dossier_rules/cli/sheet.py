"""``sheet``: the spreadsheet template of dossiers, and the import of a filled workbook (:mod:`dossier_rules.spreadsheets`)."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from .. import spreadsheets
from ..batch import read_input
from ..locale import _
from ..private_files import private_output
from ..problems import InputError
from ..sources import load_dossier
from .common import EXIT_INPUT, EXIT_OK, print_problems
from .language import lang_option


@click.group("sheet")
def sheet() -> None:
    """Dossiers in Excel workbooks: a template to fill, and its import."""


@sheet.command("template")
@lang_option
@click.argument("output", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--from", "source", default=None, help="Fill it with these dossiers (a directory of JSON files or a JSON Lines file).")
def sheet_template(output: Path, source: str | None) -> None:
    """Write a workbook to fill: a sheet per kind and per repeating group, Japanese and English headers, drop-down lists.

    Exit 0, or 2 when a dossier given with --from cannot be read.
    """
    dossiers = []
    problems = []
    if source is not None:
        try:
            for name, line, raw, problem in read_input(source):
                if problem is not None:
                    problems.append(problem)
                    continue
                assert raw is not None, "an item holds its record or its problem"
                try:
                    dossiers.append(load_dossier(raw, name, line))
                except InputError as exc:
                    problems.extend(exc.problems)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        print_problems(problems)
        raise SystemExit(EXIT_INPUT)
    spreadsheets.write_workbook(dossiers, output)
    click.echo(_("wrote {path} ({n} dossier(s))", path=output, n=len(dossiers)), err=True)
    raise SystemExit(EXIT_OK)


@sheet.command("import")
@lang_option
@click.argument("workbook", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False), help="JSON Lines of the dossiers read (batch reads it).")
def sheet_import(workbook: Path, out: Path) -> None:
    """Turn a filled WORKBOOK into dossiers; every bad cell is named by sheet, row and column.

    Dossiers without problems are written even when others have some. Exit 0
    when every row was imported, 2 when any cell or row had a problem.
    """
    try:
        result = spreadsheets.read_workbook(workbook)
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    with private_output(out) as handle:
        for dossier in result.dossiers:
            handle.write(orjson.dumps(dossier) + b"\n")
    print_problems(result.problems)
    click.echo(_("{path}: {n} dossier(s) imported, {left} left out", path=out, n=len(result.dossiers), left=result.rejected), err=True)
    raise SystemExit(EXIT_INPUT if result.problems else EXIT_OK)
