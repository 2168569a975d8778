"""The ``dossier-rules`` command line: one module per command group.

Exit codes, for every command that evaluates or checks:
0 nothing at or above the threshold; 1 findings (or lint/test failures);
2 usage errors or inputs that could not be read (bad dossier, bad pack).

Command modules are imported when their command runs (:class:`LazyGroup`):
a screener's ``check`` does not pay for the notice templates, the schema
writer or the pack tools.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from .. import __version__
from .language import LocalizedGroup, lang_option, localize

__all__ = ["default_packs_dir", "main", "make_engine"]

COMMANDS = {
    "check": "check:check",
    "batch": "batch:batch_command",
    "report": "report:report_command",
    "diff": "diff:diff_command",
    "sheet": "sheet:sheet",
    "packs": "packs:packs",
    "explain": "packs:explain",
    "trace": "trace:trace",
    "registry": "registry:registry",
    "share": "share:share",
    "exchange": "exchange:exchange",
    "schemas": "schemas:schemas",
    "serve": "serve:serve",
    "users": "users:users",
    "log": "log:log",
    "db": "db:db",
}
"""Command name -> ``module:attribute`` in this package."""


class LazyGroup(LocalizedGroup):
    """The top-level group: its commands are imported on first use, from :data:`COMMANDS`, in the chosen language."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        localize(command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; an operational failure ends it with one line and exit 2, never a traceback."""
        try:
            return super().invoke(ctx)
        except OSError as exc:  # unwritable output, full disk, read-only file system, ...
            place = f": {exc.filename}" if exc.filename else ""
            fail(f"{exc.strerror or exc}{place}")
        except (RecursionError, MemoryError) as exc:
            fail(f"the input is too large or too deeply nested to process ({type(exc).__name__})")
        except Exception as exc:
            errors = sys.modules.get("dossier_rules.storage.errors")  # imported only by commands that use a database
            if errors is not None and isinstance(exc, errors.StorageError):  # unreachable, locked, damaged, or needs an upgrade
                fail(exc.message())
            raise


def fail(message: str) -> None:
    """One ``error:`` line on stderr and exit 2 (an operational error, not findings)."""
    from ..locale import _
    from .common import EXIT_INPUT

    click.echo(_("error: {message}", message=message), err=True)
    raise SystemExit(EXIT_INPUT)


@click.group(cls=LazyGroup)
@click.version_option(version=__version__, prog_name="dossier-rules")
@lang_option
def main() -> None:
    """Screen SSW candidate and broker dossiers against the MOC rule packs."""


def __getattr__(name: str) -> Any:
    """``default_packs_dir`` and ``make_engine`` (used by scripts) without importing the engine with the CLI."""
    if name in ("default_packs_dir", "make_engine"):
        from . import common

        return getattr(common, name)
    raise AttributeError(name)
