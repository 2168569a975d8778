"""Shared by the service's tests: an app on a temporary database, users of every role, their tokens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from dossier_rules.server import Settings, create_app

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


def make_service(tmp_path: Path, **settings: Any) -> Service:
    app = create_app(Settings(db=tmp_path / "service.sqlite", packs_dir=ROOT / "rules", **settings))
    accounts = app.state.accounts
    tokens = {}
    for role in ROLES:
        user = accounts.add_user(role, PASSWORD, role, display_name=f"{role.title()} Person")
        tokens[role] = accounts.create_token(user, "tests")[1]
    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    return Service(app, client, tokens)
