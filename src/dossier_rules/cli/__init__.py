"""The ``dossier-rules`` command line: one module per command group.

Exit codes, for every command that evaluates or checks:
0 nothing at or above the threshold; 1 findings (or lint/test failures);
2 usage errors or inputs that could not be read (bad dossier, bad pack).
"""

from __future__ import annotations

import click

from .. import __version__
from .batch import batch_command
from .check import check
from .common import default_packs_dir, make_engine
from .log import log
from .packs import explain, packs
from .registry import registry
from .schemas import schemas
from .serve import serve
from .share import share
from .users import users

__all__ = ["main", "default_packs_dir", "make_engine"]


@click.group()
@click.version_option(version=__version__, prog_name="dossier-rules")
def main() -> None:
    """Screen SSW candidate and broker dossiers against the MOC rule packs."""


for command in (check, batch_command, packs, explain, registry, share, schemas, serve, users, log):
    main.add_command(command)
