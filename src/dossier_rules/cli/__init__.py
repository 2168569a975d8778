"""The ``dossier-rules`` command line: one module per command group.

Exit codes, for every command that evaluates or checks:
0 nothing at or above the threshold; 1 findings (or lint/test failures);
2 usage errors or inputs that could not be read (bad dossier, bad pack).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import click

from .. import __version__
from .batch import batch_command
from .check import check
from .common import EXIT_INPUT, default_packs_dir, make_engine
from .log import log
from .packs import explain, packs
from .registry import registry
from .schemas import schemas
from .serve import serve
from .share import share
from .users import users

__all__ = ["main", "default_packs_dir", "make_engine"]


class _Commands(click.Group):
    """The command group; an operational failure ends any command with one line and exit 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:  # unwritable output, full disk, read-only file system, ...
            place = f": {exc.filename}" if exc.filename else ""
            fail(f"{exc.strerror or exc}{place}")
        except sqlite3.Error as exc:  # a read-only or damaged outbox
            fail(f"the outbox cannot be used: {exc}")
        except (RecursionError, MemoryError) as exc:
            fail(f"the input is too large or too deeply nested to process ({type(exc).__name__})")


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(EXIT_INPUT)


@click.group(cls=_Commands)
@click.version_option(version=__version__, prog_name="dossier-rules")
def main() -> None:
    """Screen SSW candidate and broker dossiers against the MOC rule packs."""


for command in (check, batch_command, packs, explain, registry, share, schemas, serve, users, log):
    main.add_command(command)
