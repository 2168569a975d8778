"""``diff``: what changed between two runs over the same input (after a registry import or a pack change).

The comparison is :func:`dossier_rules.results.compare` (streaming, record by
record, each pair matched by content: :func:`dossier_rules.results.same_record`);
this module prints it, starting with what the two runs did differently
(:meth:`dossier_rules.results.RunFacts.differences`: program, backend, as-of
date, packs, registries). Exit 1 when anything changed, 0 when nothing did, 2
when a file cannot be read or the two are not results of the same input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

import click
import orjson
from rich.console import Console

from ..locale import _
from ..problems import InputError
from ..results import Comparison, NotSameInput, RunFacts, compare, outcome_label, read_run, run_facts
from .common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, console, print_problems
from .language import lang_option
from .views import text_table

LISTED = 50
"""Changed dossiers listed in the table output; the JSON Lines output lists every one."""


@click.command("diff")
@lang_option
@click.argument("old", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("new", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "jsonl"]),
    default="table",
    show_default=True,
    help="table: counts and the first changed dossiers; json: the counts; jsonl: one line per changed dossier, then the counts.",
)
def diff_command(old: Path, new: Path, fmt: str) -> None:
    """Compare two results files of the same input: outcome changes and findings added or removed, by rule.

    Exit 0 when nothing changed, 1 when anything did, 2 when a file cannot be
    read or they are not results of the same input.
    """
    raise SystemExit(run_diff(old, new, fmt, sys.stdout))


def run_diff(old: Path, new: Path, fmt: str, stream: IO[str], out: Console | None = None) -> int:
    """Compare and print; the exit code (``batch --baseline`` prints its comparison with this too)."""
    counts = Comparison()
    listed: list[Any] = []
    runs = RunFacts(), RunFacts()
    try:
        if fmt == "jsonl":
            stream.write(orjson.dumps({"runs": runs_json(run_facts(old), run_facts(new))}).decode() + "\n")
        for found in compare(read_run(old, runs[0]), read_run(new, runs[1]), counts):
            if fmt == "jsonl":
                stream.write(orjson.dumps({"change": found.to_json()}).decode() + "\n")
            elif len(listed) < LISTED:
                listed.append(found)
    except InputError as exc:
        print_problems(exc.problems)
        return EXIT_INPUT
    except NotSameInput as exc:
        click.echo(_("error: cannot compare {old} and {new}: {reason}", old=old, new=new, reason=exc), err=True)
        return EXIT_INPUT
    if fmt == "json":
        stream.write(orjson.dumps({"runs": runs_json(*runs), "summary": counts.to_json()}, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif fmt == "jsonl":
        stream.write(orjson.dumps({"summary": counts.to_json()}).decode() + "\n")
    else:
        print_comparison(out or console(), counts, listed, old, new, runs)
    return EXIT_FINDINGS if counts.changed else EXIT_OK


def runs_json(old: RunFacts, new: RunFacts) -> dict[str, Any]:
    """The two runs' facts and, in words, what differs between them."""
    return {"old": old.to_json(), "new": new.to_json(), "differences": old.differences(new)}


def print_runs(out: Console, runs: tuple[RunFacts, RunFacts]) -> None:
    """What the two runs did differently, before what changed in their results."""
    differences = runs[0].differences(runs[1])
    if not differences:
        out.print(_("the two runs used the same program, backend, as-of date, packs and registries"), markup=False, soft_wrap=not out.is_terminal)
        return
    out.print(_("the two runs differ in:"), markup=False)
    for line in differences:
        out.print("  " + line, markup=False, soft_wrap=not out.is_terminal)
    if runs[0].sample or runs[1].sample:
        out.print(_("⚠ fictional sample data: a registry of at least one run is a fictional sample, not the published list"), markup=False)


def print_comparison(out: Console, counts: Comparison, listed: list[Any], old: Path, new: Path, runs: tuple[RunFacts, RunFacts]) -> None:
    print_runs(out, runs)
    data = counts.to_json()
    out.print(
        _(
            "{old} → {new}: {records} records, {changed} changed, {moved} with another outcome",
            old=old,
            new=new,
            records=f"{data['records']:,}",
            changed=f"{data['changed']:,}",
            moved=f"{data['outcome_changed']:,}",
        )
    )
    if data["moves"]:
        body = [[outcome_label(move["from"]), outcome_label(move["to"]), f"{move['dossiers']:,}"] for move in data["moves"]]
        out.print(text_table((_("from"), _("to"), _("dossiers")), body, right=[2], title=_("outcome changes")))
    if data["rules"]:
        header = (_("rule"), _("added"), _("removed"), _("dossiers gaining it"), _("dossiers losing it"))
        body = [[rule, *(f"{n[k]:,}" for k in ("added", "removed", "dossiers_added", "dossiers_removed"))] for rule, n in data["rules"].items()]
        out.print(text_table(header, body, ids=[0], right=[1, 2, 3, 4], title=_("findings by rule")))
    if listed:
        title = _("changed dossiers (the first {shown} of {changed}; --format jsonl lists all)", shown=len(listed), changed=f"{data['changed']:,}")
        body = []
        for found in listed:
            same = found.old_outcome == found.new_outcome
            outcome = outcome_label(found.new_outcome) if same else f"{outcome_label(found.old_outcome)} → {outcome_label(found.new_outcome)}"
            body.append([found.dossier_id or "", found.source, outcome, ", ".join(found.added), ", ".join(found.removed)])
        out.print(text_table((_("dossier"), _("source"), _("outcome"), _("added"), _("removed")), body, ids=[0], title=title))
