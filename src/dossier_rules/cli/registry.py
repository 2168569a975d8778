"""``registry`` (import, list, show): the lists the rules consult."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from ..errors import DossierError
from ..labels import Lang, label, term
from ..locale import _, language
from ..problems import InputError
from ..registries import REGISTRY_KINDS
from ..services import catalog
from ..services import registries as registry_service
from ..services.workspace import Workspace
from .common import (
    EXIT_FINDINGS,
    EXIT_INPUT,
    console,
    load_packset,
    load_registry_set,
    packs_option,
    print_problems,
    registries_option,
    say_error,
)
from .views import text_table


@click.group()
def registry() -> None:
    """Import and inspect the lists rules consult (accredited agencies, improvement orders, ...)."""


@registry.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--country",
    required=True,
    callback=lambda ctx, param, value: value.upper(),
    help="Who keeps the list: a partner country with a pack whose rules consult it, or JP for Japan's lists.",
)
@click.option("--kind", required=True, type=click.Choice(sorted(REGISTRY_KINDS)))
@click.option("--source", required=True, help="Where the list came from (publication, URL, letter).")
@click.option("--retrieved-on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Date the list was retrieved  [default: today]")
@click.option("--skip-bad", is_flag=True, help="Write the good rows and a report of the bad ones instead of writing nothing.")
@packs_option
@registries_option
def registry_import(
    csv_file: Path, country: str, kind: str, source: str, retrieved_on: Any, skip_bad: bool, packs_dir: Path, registries_dir: Path | None
) -> None:
    """Import a registry from CSV (columns: id, name, listed_from, ended_on, ended_because, note).

    Every row is validated. With any bad row nothing is written (exit 1),
    unless --skip-bad: then the good rows are written and the bad ones are
    reported in FILE.rejected.csv beside the registry.
    """
    try:
        imported = registry_service.import_registry(
            load_packset(packs_dir),
            Workspace.of(packs_dir, registries_dir).registries_dir,
            country,
            kind,
            source,
            day_of(retrieved_on),
            csv_file,
            str(csv_file),
            skip_bad,
        )
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    except DossierError as exc:
        raise _refused(exc, str(csv_file)) from None
    for line, _values, reason in imported.rejected:
        click.echo(f"{csv_file}:{line}: {reason}", err=True)
    click.echo(_("wrote {target}: {count} entries, retrieved {day}", target=imported.target, count=imported.count, day=imported.retrieved_on))
    if imported.report is not None:
        click.echo(_("{count} bad row(s) reported in {report}", count=len(imported.rejected), report=imported.report), err=True)
        raise SystemExit(EXIT_FINDINGS)


def day_of(value: datetime | None) -> date | None:
    return value.date() if value else None


def _refused(exc: DossierError, name: str) -> BaseException:
    """The command line's words for a refused import: usage errors, the sample registries, bad rows."""
    if exc.code == "registry.bad_rows":
        for problem in exc.problems:
            click.echo(f"{name}:{problem.line}: {problem.message}", err=True)
        click.echo(_("{count} bad row(s); nothing written (use --skip-bad to import the {good} good ones)", **exc.params), err=True)
        return SystemExit(EXIT_FINDINGS)
    if exc.code == "registry.sample":
        say_error(exc, _("import into --registries DIR"))
        return SystemExit(EXIT_INPUT)
    if exc.code == "registry.not_utf8":
        click.echo(f"error: {name}: {exc.message()}", err=True)
        return SystemExit(EXIT_INPUT)
    return click.UsageError(exc.message())


@registry.command("list")
@packs_option
@registries_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def registry_list(packs_dir: Path, registries_dir: Path | None, fmt: str) -> None:
    """List the loaded registries and how old they are today."""
    workspace = Workspace.of(packs_dir, registries_dir)
    rows = catalog.registry_rows(load_registry_set(packs_dir, registries_dir), workspace.max_registry_age, date.today(), None)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    lang: Lang = "ja" if language() == "ja" else "en"
    headers = (_("country"), _("list"), _("entries"), _("retrieved on"), _("age (days)"), _("fictional sample data"), _("source of the list"))
    body = [
        [
            label(row["country"], lang, "country"),
            _("{name} ({kind})", name=term(row["kind"], lang, "registry"), kind=row["kind"]),
            str(row["entries"]),
            row["retrieved_on"],
            str(row["age_days"]),
            _("yes") if row["sample"] else "",
            _("Fictional sample data (not a published list)") if row["sample"] else row["source"],
        ]
        for row in rows
    ]
    console().print(text_table(headers, body, ids=[1, 3]))


@registry.command("show")
@click.argument("kind", type=click.Choice(sorted(REGISTRY_KINDS)))
@click.option("--country", required=True, help="Who keeps the list (JP for Japan's lists).")
@packs_option
@registries_option
def registry_show(kind: str, country: str, packs_dir: Path, registries_dir: Path | None) -> None:
    """Print the entries of one registry."""
    loaded = load_registry_set(packs_dir, registries_dir).by_key.get((country, kind))
    if loaded is None:
        raise click.UsageError(_("no {kind} registry for {country} is loaded", kind=kind, country=country))
    reg = loaded.registry
    out = console()
    lang: Lang = "ja" if language() == "ja" else "en"
    names = {"country": label(reg.country, lang, "country"), "kind": term(reg.kind, lang, "registry")}
    heading = _("{country} {kind}: {count} entries, retrieved on {day}", **names, count=loaded.count, day=reg.retrieved_on)
    out.print(_("{line} (fictional sample data)", line=heading) if reg.sample else heading)
    source = _("Fictional sample data (not a published list)") if reg.sample else reg.source
    out.print(_("source: {source}", source=source), markup=False)
    headers = (_("id"), _("name"), _("listed from"), _("ended on"), _("because"), _("note"))
    body = [[e.id, e.name, str(e.listed_from or ""), str(e.ended_on or ""), e.ended_because or "", e.note or ""] for e in loaded.entries()]
    out.print(text_table(headers, body, ids=[0]))
