"""``schemas``: the JSON Schemas generated from the models."""

from __future__ import annotations

from pathlib import Path

import click

from .. import schemas as schema_files
from ..locale import _
from .common import (
    EXIT_FINDINGS,
    load_packset,
    packs_option,
)


@click.group()
def schemas() -> None:
    """Generated JSON Schemas."""


@schemas.command("write")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=Path("schemas"), show_default=True)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the files are stale.")
@packs_option
def schemas_write(directory: Path, check: bool, packs_dir: Path) -> None:
    """Regenerate the schemas from the models and the packs (or check that they are current).

    The dossier schemas list the countries of the packs in the pack
    directory, and the country-specific fields each of those packs declares.
    """
    packset = load_packset(packs_dir)
    if check:
        stale = schema_files.stale(directory, packset)
        if stale:
            click.echo(_("stale: {files}", files=", ".join(stale)), err=True)
            raise SystemExit(EXIT_FINDINGS)
        click.echo(_("schemas are current"))
        return
    for path in schema_files.write(directory, packset):
        click.echo(_("wrote {path}", path=path))
