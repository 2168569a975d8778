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
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    show_default="dossier-rules.sqlite, or $DOSSIER_RULES_DB",
    help="The service's SQLite file: accounts, screening log, notice outbox.",
)


def settings_db(db: Path | None) -> Path:
    from ..server.settings import default_db

    return db or default_db()


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
@click.option(
    "--office-timezone",
    default="Asia/Tokyo",
    show_default=True,
    help="The office's time zone (an IANA name): the pages show the times of screenings in it.",
)
@click.option(
    "--write-openapi", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write the OpenAPI document here (schemas/openapi.json) and exit."
)
@db_option
@packs_option
@registries_option
@max_age_option
def serve(
    host: str,
    port: int,
    no_store_dossiers: bool,
    names_visible_to: tuple[str, ...],
    office_timezone: str,
    write_openapi: Path | None,
    db: Path | None,
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

    settings = Settings(
        db=settings_db(db),
        packs_dir=packs_dir,
        registries_dir=registries_dir,
        max_registry_age=max_registry_age,
        store_dossiers=not no_store_dossiers,
        names_visible_to=frozenset(names_visible_to),
        office_timezone=_timezone(office_timezone),
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
    if not app.state.accounts.users():
        click.echo("note: no user exists yet; create one with: dossier-rules users add NAME --role admin", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, server_header=False)


def _timezone(name: str) -> str:
    """The time zone named, checked now rather than on the first page shown."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(_("unknown time zone {name} (use an IANA name such as Asia/Tokyo)", name=name), param_hint="--office-timezone") from None
    return name
