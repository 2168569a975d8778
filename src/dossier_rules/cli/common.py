"""What every command shares: exit codes, options, and loading packs, registries and the engine."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .. import backends
from ..engine import DEFAULT_MAX_REGISTRY_AGE, Engine
from ..errors import DossierError
from ..locale import _
from ..packs import PackSet
from ..problems import InputError, Problem
from ..registries import Registries
from ..services.workspace import Workspace, default_packs_dir

if TYPE_CHECKING:
    from rich.console import Console

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2
STYLE = {"block": "bold red", "warn": "yellow", "info": "cyan"}


PIPE_WIDTH = 100_000
"""Width of a console that writes to a file or a pipe: wide enough that no table wraps or cuts a cell there."""


def console(err: bool = False) -> Console:
    """A rich console for tables and wrapped text; rich is loaded here, by the commands that print with it.

    On a terminal, its width (tables wrap their cells to fit); to a file or a
    pipe, :data:`PIPE_WIDTH`, so every line is written whole.
    """
    from rich.console import Console

    stream = sys.stderr if err else sys.stdout
    return Console(file=stream, width=None if stream.isatty() else PIPE_WIDTH, soft_wrap=False, highlight=False)


def print_problems(problems: Iterable[Problem]) -> None:
    for problem in problems:
        click.echo(_("error: {message}", message=problem), err=True)


def say_error(exc: DossierError, hint: str | None = None) -> None:
    """Print a typed error in the user's language, with what to type next (``hint``) and its located problems."""
    click.echo(f"error: {exc.message()}" + (f" ({hint})" if hint else ""), err=True)
    print_problems(exc.problems)


def load_packset(packs_dir: Path) -> PackSet:
    """The packs, through the compiled-pack cache (see :mod:`dossier_rules.pack_cache`)."""
    try:
        return Workspace.of(packs_dir).packset()
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None


def load_registry_set(packs_dir: Path, registries_dir: Path | None) -> Registries:
    try:
        return Workspace.of(packs_dir, registries_dir).registries()
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None


def make_engine(packs_dir: Path, registries_dir: Path | None, max_age: int, backend: str = backends.DEFAULT) -> Engine:
    """The engine every evaluating command uses: packs, registries, the staleness limit, the backend."""
    workspace = Workspace.of(packs_dir, registries_dir, max_registry_age=max_age)
    packset = load_packset(packs_dir)
    refuse_untranslatable(packset, backend)
    try:
        return workspace.engine(packset, backend)
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None


def refuse_untranslatable(packset: PackSet, backend: str) -> None:
    """A backend not installed, or a rule it cannot express (rete), stops the run before anything is evaluated."""
    chosen = backends.get(backend)
    if not chosen.installed():  # only rete needs more than the base install (its extra)
        click.echo(_("error: the rete backend needs durable-rules: pip install 'dossier-rules[rete]'"), err=True)
        raise SystemExit(EXIT_INPUT)
    problems = chosen.refusals(packset)
    for problem in problems:
        click.echo(_("error: {message}", message=problem), err=True)
    if problems:
        raise SystemExit(EXIT_INPUT)


packs_option = click.option(
    "--packs",
    "packs_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=default_packs_dir,
    show_default="the packs installed with dossier-rules, or $DOSSIER_RULES_PACKS",
    help="Directory of rule packs.",
)
registries_option = click.option(
    "--registries",
    "registries_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Directory of registries  [default: registries/ inside the pack directory]",
)
max_age_option = click.option(
    "--max-registry-age",
    type=click.IntRange(min=0),
    default=DEFAULT_MAX_REGISTRY_AGE,
    show_default=True,
    help="Days after retrieval (counted to the as-of date) from which a registry is reported as stale.",
)
engine_option = click.option(
    "--engine",
    "backend",
    type=click.Choice(backends.names()),
    default=backends.DEFAULT,
    show_default=True,
    help="Rule backend: native (each pack compiled to Python; see 'packs compile --show'), interpreted "
    "(the reference closure interpreter the compiled code is tested against), or durable-rules' Rete engine "
    "(runs in worker processes).",
)
as_of_option = click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Evaluate as of this date (YYYY-MM-DD); default: each dossier's submitted date.",
)
