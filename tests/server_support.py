"""Shared by the service's tests: an app on a temporary database, users of every role, their tokens.

Hashing passwords with argon2 is deliberately slow, so the users are made
once, in a template database that every test's service starts from a copy of.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from dossier_rules.server import Settings, create_app
from dossier_rules.server.app import load_engine
from dossier_rules.services.accounts import Accounts
from dossier_rules.storage import Database

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "a long enough password"
ROLES = ("screener", "reviewer", "admin")


@dataclass
class Service:
    app: Any
    client: TestClient
    tokens: dict[str, str]

    def as_(self, who: str) -> dict[str, str]:
        """Headers that authenticate as the user named after a role."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@cache
def _engine() -> Any:
    return load_engine(Settings(packs_dir=ROOT / "rules"))


@cache
def _template() -> tuple[Path, dict[str, str]]:
    path = Path(tempfile.mkdtemp(prefix="dossier-rules-users-")) / "template.sqlite"
    accounts = Accounts(Database(path))
    tokens = {}
    for role in ROLES:
        user = accounts.add_user(role, PASSWORD, role, display_name=f"{role.title()} Person")  # type: ignore[arg-type]
        tokens[role] = accounts.create_token(user, "tests")[1]
    with accounts.db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    accounts.db.close()
    return path, tokens


def make_service(tmp_path: Path, **settings: Any) -> Service:
    """A service on a copy of the template database (users screener, reviewer, admin, each with a token)."""
    template, tokens = _template()
    db = tmp_path / "service.sqlite"
    source = sqlite3.connect(template)
    target = sqlite3.connect(db)
    source.backup(target)
    source.close()
    target.close()
    app = create_app(
        Settings(db=db, packs_dir=ROOT / "rules", **settings), engine=None if {"max_registry_age", "registries_dir"} & settings.keys() else _engine()
    )
    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    return Service(app, client, tokens)
