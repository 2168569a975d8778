"""Settings of the service: where its database is (a SQLite file or a PostgreSQL URL), which packs it screens with, its limits.

Everything has a default that is safe on a workstation (loopback address,
secure cookies); ``dossier-rules serve`` fills the rest from its options and
the environment variables named below.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..storage import is_url

DB_ENV = "DOSSIER_RULES_DB"
LOG_KEY_ENV = "DOSSIER_RULES_LOG_KEY"
DEFAULT_DB = Path("dossier-rules.sqlite")

MAX_BODY_BYTES = 4 * 1024 * 1024
"""One dossier: the same limit as a dossier file on the command line."""
MAX_BATCH_BYTES = 64 * 1024 * 1024
"""One JSON Lines body for the batch endpoint; larger sets go through ``dossier-rules batch``."""
REQUEST_DEADLINE_SECONDS = 30.0
"""Time a request may take before its answer starts; past it the client gets 503 (see :class:`.limits.Deadline`)."""
BATCH_DEADLINE_SECONDS = 300.0
"""The same for the batch endpoint, whose body alone (up to 64 MiB) may take minutes to arrive on a slow line."""
UPLOADS_PER_USER = 16
"""Screening requests one user may have running at once (``POST /api/v1/screenings``, the batch, the page upload).

High enough for an integration that sends a few requests in parallel under one token, low enough that one user
cannot take every worker thread (40) of a process."""


def loopback(host: str) -> bool:
    """Whether a host name or address is this machine only (``serve`` warns otherwise; browsers keep Secure cookies there)."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def database_location(value: str | Path) -> str | Path:
    """A ``--db`` value: a ``postgresql://`` URL stays text, anything else is a SQLite file's path."""
    return str(value) if is_url(str(value)) else Path(value)


def default_db() -> str | Path:
    """``$DOSSIER_RULES_DB`` (a path or a ``postgresql://`` URL), else ``dossier-rules.sqlite`` in the working directory."""
    return database_location(os.environ.get(DB_ENV) or DEFAULT_DB)


def default_log_key(db: str | Path) -> Path | None:
    """``$DOSSIER_RULES_LOG_KEY``, else the SQLite file's path with the suffix ``.log-key`` (a separate file, 0600).

    None for a PostgreSQL database: its processes may run on several hosts and
    must all sign with one key, so the operator names it (``--log-key``).
    """
    named = os.environ.get(LOG_KEY_ENV)
    if named:
        return Path(named)
    return db.with_suffix(".log-key") if isinstance(db, Path) else None


@dataclass
class Settings:
    """What :func:`dossier_rules.server.create_app` needs to know."""

    db: str | Path = field(default_factory=default_db)
    upgrade_db: bool = False
    """Upgrade a database made by an earlier release on start (``serve --upgrade-db``); otherwise refuse to start on one."""
    packs_dir: Path | None = None
    registries_dir: Path | None = None
    max_registry_age: int = 180
    store_dossiers: bool = True
    """False: the screening log keeps only each dossier's SHA-256 (``--no-store-dossiers``)."""
    names_visible_to: frozenset[str] = frozenset({"reviewer", "admin"})
    """Roles that see candidates' identity in stored dossiers and evidence (the team's policy under art. 3)."""
    secure_cookies: bool = True
    """False only for tests and local experiments over plain HTTP: the cookie loses ``Secure`` and its ``__Host-`` name."""
    office_timezone: str = "Asia/Tokyo"
    """The office's time zone (IANA name): pages show times of screenings and notices in it."""
    session_hours: int = 12
    max_body_bytes: int = MAX_BODY_BYTES
    max_batch_bytes: int = MAX_BATCH_BYTES
    request_deadline_seconds: float = REQUEST_DEADLINE_SECONDS
    batch_deadline_seconds: float = BATCH_DEADLINE_SECONDS
    uploads_per_user: int = UPLOADS_PER_USER
    metrics_token: str | None = None
    """The bearer token ``/metrics`` asks for; None: ``/metrics`` is not served by the app (see ``serve --metrics-listen``)."""
    login_failures_per_account: int = 5
    login_failures_per_address: int = 20
    login_window_seconds: int = 15 * 60
    log_key: Path | None = None
    """The screening log's Ed25519 signing key; None: :func:`default_log_key` of ``db``. Created on first start."""
