"""``db`` (upgrade, status): the service database's schema version.

A database made by an earlier release is upgraded in place by
``dossier-rules db upgrade`` (or by ``serve --upgrade-db``); back it up
first, a downgrade is a restore.
"""

from __future__ import annotations

import click

from ..locale import _
from .serve import db_option, settings_db


@click.group()
def db() -> None:
    """The service database: its schema version, and upgrading it to this release."""


@db.command("upgrade")
@db_option
def db_upgrade(db: str | None) -> None:
    """Upgrade the database to this release's schema (creates it when missing). Back it up first."""
    from ..storage import Database, describe, migrate

    location = settings_db(db)
    database = Database(location, upgrade=True)
    database.close()
    if database.upgraded_from:
        click.echo(_("{where}: upgraded from schema {old} to {new}", where=describe(location), old=database.upgraded_from, new=migrate.head()))
    else:
        click.echo(_("{where}: schema {new}, nothing to upgrade", where=describe(location), new=migrate.head()))


@db.command("status")
@db_option
def db_status(db: str | None) -> None:
    """Say which schema the database has and whether it needs an upgrade (exit 1 if it does)."""
    from ..storage import Database, NeedsUpgrade, describe, migrate

    location = settings_db(db)
    try:
        Database(location).close()
    except NeedsUpgrade as exc:
        click.echo(exc.message())
        raise SystemExit(1) from None
    click.echo(_("{where}: schema {new}, up to date", where=describe(location), new=migrate.head()))
