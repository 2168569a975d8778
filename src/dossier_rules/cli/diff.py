"""``diff``: what changed between two runs over the same input (after a registry import or a pack change).

The comparison is :func:`dossier_rules.results.compare` (streaming, record by
record); this module prints it. Exit 1 when anything changed, 0 when nothing
did, 2 when a file cannot be read or the two are not results of the same input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from ..locale import _, language
from ..results import Comparison, NotSameInput, compare, read_results
from ..sources import InputError
from .common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, console, print_problems
from .language import lang_option
from .views import OUTCOME_LABELS

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
    try:
        for found in compare(read_results(old), read_results(new), counts):
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
    if fmt in ("json", "jsonl"):
        body = {"summary": counts.to_json()}
        stream.write(orjson.dumps(body, option=orjson.OPT_INDENT_2 if fmt == "json" else 0).decode() + "\n")
    else:
        print_comparison(out or console(), counts, listed, old, new)
    return EXIT_FINDINGS if counts.changed else EXIT_OK


def print_comparison(out: Console, counts: Comparison, listed: list[Any], old: Path, new: Path) -> None:
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
        moves = Table(title=_("outcome changes"), title_justify="left")
        moves.add_column(_("from"))
        moves.add_column(_("to"))
        moves.add_column(_("dossiers"), justify="right")
        for move in data["moves"]:
            moves.add_row(outcome_label(move["from"]), outcome_label(move["to"]), f"{move['dossiers']:,}")
        out.print(moves)
    if data["rules"]:
        rules = Table(title=_("findings by rule"), title_justify="left")
        rules.add_column(_("rule"), overflow="fold")
        for header in (_("added"), _("removed"), _("dossiers gaining it"), _("dossiers losing it")):
            rules.add_column(header, justify="right", overflow="fold")
        for rule, n in data["rules"].items():
            rules.add_row(rule, f"{n['added']:,}", f"{n['removed']:,}", f"{n['dossiers_added']:,}", f"{n['dossiers_removed']:,}")
        out.print(rules)
    if listed:
        title = _("changed dossiers (the first {shown} of {changed}; --format jsonl lists all)", shown=len(listed), changed=f"{data['changed']:,}")
        table = Table(title=title, title_justify="left")
        for header in (_("dossier"), _("source"), _("outcome"), _("added"), _("removed")):
            table.add_column(header, overflow="fold")
        for found in listed:
            same = found.old_outcome == found.new_outcome
            outcome = outcome_label(found.new_outcome) if same else f"{outcome_label(found.old_outcome)} → {outcome_label(found.new_outcome)}"
            table.add_row(found.dossier_id or "", found.source, outcome, ", ".join(found.added), ", ".join(found.removed))
        out.print(table)


def outcome_label(state: str) -> str:
    """An outcome as the examiner reads it, in the current language."""
    ja, en = OUTCOME_LABELS.get(state, (state, state))
    return ja if language() == "ja" else en
