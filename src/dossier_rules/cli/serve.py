"""``serve``: run the screening service (HTTP API, and the web pages when installed) with uvicorn."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

import click

from ..locale import _
from .common import EXIT_INPUT, max_age_option, packs_option, print_problems, registries_option

db_option = click.option(
    "--db",
    default=None,
    show_default="dossier-rules.sqlite, or $DOSSIER_RULES_DB",
    help="The service's database: a SQLite file's path, or a postgresql://USER@HOST:PORT/NAME URL. Accounts, screening log, notice outbox.",
)

log_key_option = click.option(
    "--log-key",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    show_default="the database's path with suffix .log-key, or $DOSSIER_RULES_LOG_KEY",
    help="The screening log's Ed25519 signing key (a file of its own, mode 0600).",
)


def log_key_path(db: str | None, log_key: Path | None) -> Path:
    """The signing key's file: ``--log-key``, ``$DOSSIER_RULES_LOG_KEY``, or beside a SQLite database (a PostgreSQL one needs it named)."""
    from ..server.settings import default_log_key

    path = log_key or default_log_key(settings_db(db))
    if path is None:
        raise click.UsageError(
            _("a PostgreSQL database needs the log's signing key named with --log-key or $DOSSIER_RULES_LOG_KEY: every process signs with that one key")
        )
    return path


def log_key_note(path: Path) -> str:
    """What to tell the operator when the service made the log's signing key on its first start."""
    return _(
        "note: created the screening log's signing key {path} (0600); keep it apart from the database and give witnesses its public key: dossier-rules log public-key",
        path=path,
    )


def settings_db(db: str | None) -> str | Path:
    from ..server.settings import database_location, default_db

    return database_location(db) if db else default_db()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--no-store-dossiers", is_flag=True, help="Keep only each dossier's SHA-256 in the screening log, not the dossier.")
@click.option(
    "--names-visible-to",
    multiple=True,
    type=click.Choice(["screener", "reviewer", "admin"]),
    default=("reviewer", "admin"),
    show_default=True,
    help="Roles that see candidates' identity in stored screenings (the team's policy under art. 3); repeat for each role.",
)
@click.option("--upgrade-db", is_flag=True, help="Upgrade a database made by an earlier release before serving (back it up first).")
@click.option(
    "--write-openapi", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write the OpenAPI document here (schemas/openapi.json) and exit."
)
@db_option
@log_key_option
@packs_option
@registries_option
@max_age_option
def serve(
    host: str,
    port: int,
    no_store_dossiers: bool,
    names_visible_to: tuple[str, ...],
    upgrade_db: bool,
    write_openapi: Path | None,
    db: str | None,
    log_key: Path | None,
    packs_dir: Path,
    registries_dir: Path | None,
    max_registry_age: int,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json) until interrupted.

    Create the first admin before: dossier-rules users add NAME --role admin.
    """
    import uvicorn

    from ..server import Settings, create_app
    from ..sources import InputError
    from ..transparency.keyfile import KeyFileError

    settings = Settings(
        db=settings_db(db),
        log_key=log_key_path(db, log_key),
        upgrade_db=upgrade_db,
        packs_dir=packs_dir,
        registries_dir=registries_dir,
        max_registry_age=max_registry_age,
        store_dossiers=not no_store_dossiers,
        names_visible_to=frozenset(names_visible_to),
    )
    if write_openapi is not None:
        from ..server.app import load_engine, openapi_text

        write_openapi.write_text(openapi_text(load_engine(settings)), encoding="utf-8")
        click.echo(f"wrote {write_openapi}")
        return
    routers: tuple[Any, ...] = ()
    if importlib.util.find_spec("dossier_rules.web") is not None:
        routers = (importlib.import_module("dossier_rules.web").router,)
    try:
        app = create_app(settings, extra_routers=routers)
    except InputError as exc:
        print_problems(exc.problems)
        raise SystemExit(EXIT_INPUT) from None
    except KeyFileError as exc:
        click.echo(_("error: {reason}", reason=exc), err=True)
        raise SystemExit(EXIT_INPUT) from None
    if app.state.log_key_created:
        click.echo(log_key_note(log_key_path(db, log_key)), err=True)
    if not app.state.accounts.users():
        click.echo("note: no user exists yet; create one with: dossier-rules users add NAME --role admin", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, server_header=False)
