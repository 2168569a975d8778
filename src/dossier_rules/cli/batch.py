"""``batch``: screen many records with worker processes, in input order, resumable."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import batch, workers
from ..labels import term
from ..locale import _, language
from ..problems import InputError
from ..provenance import ResumeError
from ..report import OUTCOMES
from ..results import severity_label
from . import views
from .common import (
    EXIT_INPUT,
    as_of_option,
    console,
    engine_option,
    make_engine,
    max_age_option,
    packs_option,
    print_problems,
    registries_option,
)
from .diff import run_diff


@click.command("batch")
@click.argument("input_spec", metavar="INPUT")
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False), help="JSON Lines output: one record per input record, in input order.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=lambda: os.cpu_count() or 1,
    show_default="number of cores",
    help="Processes that screen: this one and N-1 workers (backends rete and interpreted: N workers).",
)
@click.option("--resume", is_flag=True, help="Continue after the last whole record of an interrupted run's output.")
@click.option(
    "--baseline",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="An earlier output of the same input: print what changed (as dossier-rules diff) and exit 1 if anything did.",
)
@click.option(
    "--fail-on", type=click.Choice(["block", "warn", "never"]), default="never", show_default=True, help="Lowest severity that makes the exit code 1."
)
@click.option(
    "--deadline",
    type=click.FloatRange(min=0.1),
    default=workers.DEADLINE,
    show_default=True,
    help="Seconds a worker may take over one chunk; a worker that takes longer is replaced and its records retried one by one.",
)
@as_of_option
@engine_option
@packs_option
@registries_option
@max_age_option
def batch_command(
    input_spec: str,
    out: Path,
    jobs: int,
    resume: bool,
    baseline: Path | None,
    fail_on: str,
    deadline: float,
    as_of: Any,
    backend: str,
    packs_dir: Path,
    registries_dir: Path | None,
    max_registry_age: int,
) -> None:
    """Screen every record of INPUT: a directory of JSON files, a JSON Lines file (.gz too), or - for stdin.

    Exit 0 when every record was screened (and nothing reached --fail-on),
    1 when findings reached --fail-on or, with --baseline, anything changed,
    2 when any record was unreadable or the run could not start.
    """
    engine = make_engine(packs_dir, registries_dir, max_registry_age, backend)
    started = time.monotonic()
    err_console = console(err=True)
    try:
        if err_console.is_terminal:
            # no refresh thread: workers are forked, and a forked child must not inherit a thread's locks
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console, auto_refresh=False) as bar:
                task = bar.add_task(_("starting"))

                def report(stats: batch.Stats) -> None:
                    rate = stats.records / max(time.monotonic() - started, 1e-9)
                    bar.update(task, description=progress_words(stats, rate), refresh=True)

                outcome = batch.run(engine, input_spec, out, jobs, as_of.date() if as_of else None, resume, report, deadline)
        else:
            outcome = batch.run(engine, input_spec, out, jobs, as_of.date() if as_of else None, resume, None, deadline)
    except batch.Interrupted as exc:
        click.echo(
            _(
                "stopped by {reason}: {out} holds {written} whole record(s); run the same command with --resume to continue after them",
                reason=exc,
                out=out,
                written=f"{exc.written:,}",
            ),
            err=True,
        )
        raise SystemExit(exc.exit_code) from None
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    except OSError as exc:  # reading went through InputError: this is the output (unwritable, disk full)
        click.echo(
            _("error: cannot write {out}: {reason}; the records already in it are whole (--resume continues)", out=out, reason=exc.strerror or exc), err=True
        )
        raise SystemExit(EXIT_INPUT) from None
    except ResumeError as exc:
        click.echo(_("error: cannot resume {path}: {reason}", path=out, reason=exc), err=True)
        raise SystemExit(EXIT_INPUT) from None
    print_batch_summary(err_console, outcome, time.monotonic() - started, out)
    code = outcome.stats.exit_code(fail_on)
    if baseline is not None:
        compared = run_diff(baseline, out, "table", sys.stderr, err_console)
        code = max(code, compared)
    raise SystemExit(code)


def progress_words(stats: batch.Stats, rate: float) -> str:
    """The progress line: records, rate and the outcomes so far, each outcome in the one vocabulary's words."""
    lang = language()
    counts = dict(stats.summary.outcome, unreadable=stats.errors)
    outcomes = ("、" if lang == "ja" else ", ").join(
        _("{count} {outcome}", count=f"{counts.get(code, 0):,}", outcome=term(code, lang, "outcome")) for code in OUTCOMES
    )
    return _("{records} records · {rate}/s · {outcomes}", records=f"{stats.records:,}", rate=f"{rate:,.0f}", outcomes=outcomes)


def print_batch_summary(console: Console, outcome: batch.Outcome, seconds: float, out: Path) -> None:
    stats = outcome.stats
    same = "=" if outcome.records_in == outcome.records_out else "≠"
    table = Table(title=_("batch summary → {out}", out=out), show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right", no_wrap=True)
    table.add_row(_("records in {same} records out", same=same), f"{outcome.records_in:,} {same} {outcome.records_out:,}")
    if outcome.resumed_from:
        table.add_row(_("already in the output (resumed)"), f"{outcome.resumed_from:,}")
    table.add_row(_("error records"), f"{stats.errors:,}")
    rate = (outcome.records_in - outcome.resumed_from) / max(seconds, 1e-9)
    table.add_row(_("time, rate"), _("{seconds} s, {rate} records/s", seconds=f"{seconds:,.1f}", rate=f"{rate:,.0f}"))
    for severity in ("block", "warn", "info"):
        table.add_row(_("findings: {severity}", severity=severity_label(severity)), f"{stats.severity[severity]:,}")
    console.print(table)
    for view in views.VIEWS:
        console.print(views.table(stats.summary, view, language(), limit=None if view in ("outcome", "country") else SUMMARY_ROWS))


SUMMARY_ROWS = 10
"""Rows per view in the batch summary; ``dossier-rules report`` shows them all."""
