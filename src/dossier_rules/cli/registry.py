"""``registry`` (import, list, show): the lists the rules consult."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import click

from .. import package_data
from ..cells import guard
from ..locale import _
from ..packs import PackSet
from ..registries import (
    CSV_COLUMNS,
    MAX_REGISTRY_BYTES,
    REGISTRY_KINDS,
    Registry,
    keeper_problem,
    load_registry,
    parse_csv,
    registry_file,
    write_registry,
)
from ..sources import InputError, Problem, read_bytes
from .common import (
    EXIT_FINDINGS,
    EXIT_INPUT,
    console,
    load_packset,
    load_registry_set,
    packs_option,
    print_problems,
    registries_option,
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
    check_keeper(country, kind, load_packset(packs_dir))
    try:
        text = read_bytes(csv_file, limit=MAX_REGISTRY_BYTES).decode("utf-8-sig")
        result = parse_csv(text, str(csv_file))
    except UnicodeDecodeError:
        print_problems([Problem(str(csv_file), _("not UTF-8 text"), kind="unreadable")])
        raise SystemExit(EXIT_INPUT) from None
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    for line, _values, reason in result.rejected:
        click.echo(f"{csv_file}:{line}: {reason}", err=True)
    target = registry_file(registries_dir or packs_dir / "registries", country, kind)
    if package_data.is_installed(target):
        click.echo(
            _("error: the registries installed with dossier-rules are fictional samples and are never overwritten; import into --registries DIR"), err=True
        )
        raise SystemExit(EXIT_INPUT)
    if result.rejected and not skip_bad:
        click.echo(
            _("{bad} bad row(s); nothing written (use --skip-bad to import the {good} good ones)", bad=len(result.rejected), good=len(result.entries)), err=True
        )
        raise SystemExit(EXIT_FINDINGS)
    day = retrieved_on.date() if retrieved_on else date.today()
    count = len(result.entries)
    write_registry(Registry(kind=kind, country=country, source=source, retrieved_on=day, entries=result.entries), target)
    del result.entries[:]  # not needed any more: a million entries are worth freeing before the index is built
    load_registry(target)  # a large list gets its look-up index now, once, not at the first screening
    click.echo(_("wrote {path}: {count} entries, retrieved on {day}", path=target, count=count, day=day))
    if result.rejected:
        report = target.with_name(target.name + ".rejected.csv")
        with report.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "reason", *CSV_COLUMNS])
            for line, values, reason in result.rejected:
                writer.writerow([line, *(guard(str(v)) for v in (reason, *(values.get(c) or "" for c in CSV_COLUMNS)))])
        click.echo(_("{count} bad row(s) reported in {report}", count=len(result.rejected), report=report), err=True)
        raise SystemExit(EXIT_FINDINGS)


def check_keeper(country: str, kind: str, packset: PackSet) -> None:
    """Refuse a list nobody would consult: the keepers of a kind are those the packs present name."""
    if (mismatch := keeper_problem(country, kind)) is not None:
        raise click.UsageError(mismatch)
    keepers = packset.registry_keepers().get(kind, [])
    if country not in keepers:
        known = (
            _("the packs present consult {kind} lists kept by {keepers}").format(kind=kind, keepers=", ".join(keepers))
            if keepers
            else _("no rule of the packs present consults {kind}").format(kind=kind)
        )
        raise click.UsageError(_("no pack for {country} has a rule that consults a {kind} list ({known})").format(country=country, kind=kind, known=known))


@registry.command("list")
@packs_option
@registries_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def registry_list(packs_dir: Path, registries_dir: Path | None, fmt: str) -> None:
    """List the loaded registries and how old they are today."""
    rows = []
    for loaded in load_registry_set(packs_dir, registries_dir):
        reg = loaded.registry
        rows.append(
            {
                "country": reg.country,
                "kind": reg.kind,
                "entries": loaded.count,
                "retrieved_on": reg.retrieved_on.isoformat(),
                "age_days": (date.today() - reg.retrieved_on).days,
                "sample": reg.sample,
                "source": reg.source,
                "file": str(loaded.path),
                "sha256": loaded.sha256,
            }
        )
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    headers = (_("country"), _("list"), _("entries"), _("retrieved on"), _("age (days)"), _("fictional sample data"), _("source"))
    body = [
        [row["country"], row["kind"], str(row["entries"]), row["retrieved_on"], str(row["age_days"]), _("yes") if row["sample"] else "", row["source"]]
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
    sample = " " + _("(fictional sample data)") if reg.sample else ""
    out.print(_("{country} {kind}: {count} entries, retrieved on {day}", country=reg.country, kind=reg.kind, count=loaded.count, day=reg.retrieved_on) + sample)
    out.print(_("source: {source}", source=reg.source), markup=False)
    headers = (_("id"), _("name"), _("listed from"), _("ended on"), _("because"), _("note"))
    body = [[e.id, e.name, str(e.listed_from or ""), str(e.ended_on or ""), e.ended_because or "", e.note or ""] for e in loaded.entries()]
    out.print(text_table(headers, body, ids=[0]))
