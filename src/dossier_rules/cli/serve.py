"""``serve``: run the screening service (HTTP API, and the web pages when installed) with uvicorn.

Every option can also be set by an environment variable (``DOSSIER_RULES_...``,
named in ``--help`` and in the README's settings table), so a unit file or a
container sets the service up without a command line; an option given on the
command line wins over its variable.
"""

from __future__ import annotations

import importlib
import importlib.util
import ssl
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
ENV = "DOSSIER_RULES_"


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


def exposure_warning(host: str, tls: bool, forwarded_allow_ips: str | None) -> str | None:
    """The warning ``serve`` prints when it listens beyond this machine in plain HTTP with no proxy configured."""
    from ..server.settings import loopback

    if loopback(host) or tls or forwarded_allow_ips:
        return None
    return _(
        "warning: listening on {host} over plain HTTP with no proxy configured: browsers will not keep the sign-in "
        "cookie, and passwords and dossiers cross the network unencrypted. Give --tls-cert and --tls-key, or put an "
        "HTTPS proxy in front and name it with --forwarded-allow-ips (docs/deploy.md).",
        host=host,
    )


def uvicorn_options(host: str, port: int, tls_cert: Path | None, tls_key: Path | None, forwarded_allow_ips: str | None) -> dict[str, Any]:
    """What ``serve`` passes to uvicorn: proxy headers are believed only from the addresses configured.

    uvicorn's own default believes ``X-Forwarded-For`` from 127.0.0.1, which
    lets anyone on the machine (or a proxy that does not set the header)
    choose the client address the login limits count; here it is off unless
    ``--forwarded-allow-ips`` names the proxy.
    """
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info",
        "access_log": False,
        "server_header": False,
        "proxy_headers": bool(forwarded_allow_ips),
        "forwarded_allow_ips": forwarded_allow_ips or "",
    }
    if tls_cert is not None and tls_key is not None:
        options.update(ssl_certfile=str(tls_cert), ssl_keyfile=str(tls_key))
    return options


def tls_problem(tls_cert: Path | None, tls_key: Path | None) -> str | None:
    """Why the certificate and key cannot serve TLS (None: they can, or neither was given)."""
    if (tls_cert is None) != (tls_key is None):
        return _("error: give both --tls-cert and --tls-key, or neither")
    if tls_cert is None or tls_key is None:
        return None
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(tls_cert, tls_key)
    except (ssl.SSLError, OSError) as exc:
        return _("error: cannot use {cert} and {key} for TLS: {reason}", cert=tls_cert, key=tls_key, reason=exc)
    return None


def listen_address(value: str | None) -> tuple[str, int] | None:
    """``HOST:PORT`` (``[::1]:9100`` for IPv6) of ``--metrics-listen``, checked."""
    if not value:
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(_("expected HOST:PORT, for example 127.0.0.1:9100"), param_hint="--metrics-listen")
    return host.strip("[]"), int(port)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar=ENV + "HOST", show_envvar=True, help="Address to listen on (loopback by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, envvar=ENV + "PORT", show_envvar=True)
@click.option(
    "--tls-cert",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    envvar=ENV + "TLS_CERT",
    show_envvar=True,
    help="Serve HTTPS with this certificate (PEM, chain included); with --tls-key. For small installs without a proxy.",
)
@click.option(
    "--tls-key",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    envvar=ENV + "TLS_KEY",
    show_envvar=True,
    help="The private key of --tls-cert (PEM).",
)
@click.option(
    "--forwarded-allow-ips",
    default=None,
    envvar=ENV + "FORWARDED_ALLOW_IPS",
    show_envvar=True,
    help="Addresses of the reverse proxy, comma-separated: only requests from them may set the client address and scheme "
    "(X-Forwarded-For, X-Forwarded-Proto). Unset: those headers are ignored.",
)
@click.option(
    "--request-deadline",
    type=click.FloatRange(1, 3600),
    default=30.0,
    show_default=True,
    envvar=ENV + "REQUEST_DEADLINE",
    show_envvar=True,
    help="Seconds a request may take before its answer starts; past them the client gets 503.",
)
@click.option(
    "--uploads-per-user",
    type=click.IntRange(1, 100),
    default=16,
    show_default=True,
    envvar=ENV + "UPLOADS_PER_USER",
    show_envvar=True,
    help="Screening requests one user may have running at once in this process; more get 429.",
)
@click.option(
    "--metrics-token",
    default=None,
    envvar=ENV + "METRICS_TOKEN",
    show_envvar=True,
    help="Serve /metrics to requests carrying this bearer token (prefer the environment variable: options are visible to other users).",
)
@click.option(
    "--metrics-listen",
    default=None,
    envvar=ENV + "METRICS_LISTEN",
    show_envvar=True,
    help="Also serve the Prometheus metrics on this HOST:PORT of their own, without a token (keep it off the public network).",
)
@click.option(
    "--no-store-dossiers",
    is_flag=True,
    envvar=ENV + "NO_STORE_DOSSIERS",
    show_envvar=True,
    help="Keep only each dossier's SHA-256 in the screening log, not the dossier.",
)
@click.option(
    "--names-visible-to",
    multiple=True,
    type=click.Choice(["screener", "reviewer", "admin"]),
    default=("reviewer", "admin"),
    show_default=True,
    envvar=ENV + "NAMES_VISIBLE_TO",
    show_envvar=True,
    help="Roles that see candidates' identity in stored screenings (the team's policy under art. 3); repeat for each role.",
)
@click.option(
    "--upgrade-db",
    is_flag=True,
    envvar=ENV + "UPGRADE_DB",
    show_envvar=True,
    help="Upgrade a database made by an earlier release before serving (back it up first).",
)
@click.option(
    "--office-timezone",
    default="Asia/Tokyo",
    show_default=True,
    envvar=ENV + "OFFICE_TIMEZONE",
    show_envvar=True,
    help="The office's time zone (an IANA name): the pages show the times of screenings in it.",
)
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
    tls_cert: Path | None,
    tls_key: Path | None,
    forwarded_allow_ips: str | None,
    request_deadline: float,
    uploads_per_user: int,
    metrics_token: str | None,
    metrics_listen: str | None,
    no_store_dossiers: bool,
    names_visible_to: tuple[str, ...],
    upgrade_db: bool,
    office_timezone: str,
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
    from ..server import Settings

    metrics_address = listen_address(metrics_listen)
    settings = Settings(
        db=settings_db(db),
        log_key=log_key_path(db, log_key),
        upgrade_db=upgrade_db,
        packs_dir=packs_dir,
        registries_dir=registries_dir,
        max_registry_age=max_registry_age,
        store_dossiers=not no_store_dossiers,
        names_visible_to=frozenset(names_visible_to),
        request_deadline_seconds=request_deadline,
        uploads_per_user=uploads_per_user,
        metrics_token=metrics_token or None,
        office_timezone=_timezone(office_timezone),
    )
    if write_openapi is not None:
        from ..server.app import load_engine, openapi_text

        write_openapi.write_text(openapi_text(load_engine(settings)), encoding="utf-8")
        click.echo(_("wrote {path}", path=write_openapi))
        return
    problem = tls_problem(tls_cert, tls_key)
    if problem:
        click.echo(problem, err=True)
        raise SystemExit(EXIT_INPUT)
    app = build_app(settings)
    if app.state.log_key_created:
        click.echo(log_key_note(log_key_path(db, log_key)), err=True)
    warning = exposure_warning(host, tls_cert is not None, forwarded_allow_ips)
    if warning:
        click.echo(warning, err=True)
    if not app.state.accounts.users():
        click.echo(_("note: no user exists yet; create one with: dossier-rules users add NAME --role admin"), err=True)
    if metrics_address is not None:
        start_metrics_server(app, *metrics_address)
    import uvicorn

    uvicorn.run(app, **uvicorn_options(host, port, tls_cert, tls_key, forwarded_allow_ips))


def build_app(settings: Any) -> Any:
    """The app with the web pages when installed; one ``error:`` line and exit 2 when it cannot start.

    A database that is not SQLite, or whose schema cannot be read, stops the
    start here rather than failing every request later.
    """
    from ..problems import InputError
    from ..server import create_app
    from ..storage import StorageError
    from ..transparency.keyfile import KeyFileError

    routers: tuple[Any, ...] = ()
    if importlib.util.find_spec("dossier_rules.web") is not None:
        routers = (importlib.import_module("dossier_rules.web").router,)
    try:
        return create_app(settings, extra_routers=routers)
    except InputError as exc:
        print_problems(exc.problems)
    except (StorageError, KeyFileError) as exc:  # a damaged or too old database, an unusable signing key: one line
        click.echo(_("error: {reason}", reason=exc), err=True)
    raise SystemExit(EXIT_INPUT)


def start_metrics_server(app: Any, host: str, port: int) -> Any:
    """The metrics on an address of their own (prometheus_client's server, in a thread); returns the server."""
    from prometheus_client import start_http_server

    try:
        server, _thread = start_http_server(port, addr=host, registry=app.state.metrics.registry)
    except OSError as exc:
        click.echo(_("error: cannot serve metrics on {host}:{port}: {reason}", host=host, port=port, reason=exc), err=True)
        raise SystemExit(EXIT_INPUT) from None
    return server


def _timezone(name: str) -> str:
    """The time zone named, checked now rather than on the first page shown."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(_("unknown time zone {name} (use an IANA name such as Asia/Tokyo)", name=name), param_hint="--office-timezone") from None
    return name
