"""Settings of the service: where its SQLite file is, which packs it screens with, its limits.

Everything has a default that is safe on a workstation (loopback address,
secure cookies); ``dossier-rules serve`` fills the rest from its options and
the environment variables named below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DB_ENV = "DOSSIER_RULES_DB"
DEFAULT_DB = Path("dossier-rules.sqlite")

MAX_BODY_BYTES = 4 * 1024 * 1024
"""One dossier: the same limit as a dossier file on the command line."""
MAX_BATCH_BYTES = 64 * 1024 * 1024
"""One JSON Lines body for the batch endpoint; larger sets go through ``dossier-rules batch``."""


def default_db() -> Path:
    """``$DOSSIER_RULES_DB``, else ``dossier-rules.sqlite`` in the working directory."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


@dataclass
class Settings:
    """What :func:`dossier_rules.server.create_app` needs to know."""

    db: Path = field(default_factory=default_db)
    packs_dir: Path | None = None
    registries_dir: Path | None = None
    max_registry_age: int = 180
    store_dossiers: bool = True
    """False: the screening log keeps only each dossier's SHA-256 (``--no-store-dossiers``)."""
    names_visible_to: frozenset[str] = frozenset({"reviewer", "admin"})
    """Roles that see candidates' identity in stored dossiers and evidence (the team's policy under art. 3)."""
    secure_cookies: bool = True
    office_timezone: str = "Asia/Tokyo"
    """The office's time zone (IANA name): pages show times of screenings and notices in it."""
    session_hours: int = 12
    max_body_bytes: int = MAX_BODY_BYTES
    max_batch_bytes: int = MAX_BATCH_BYTES
    login_failures_per_account: int = 5
    login_failures_per_address: int = 20
    login_window_seconds: int = 15 * 60
