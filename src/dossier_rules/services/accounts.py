"""Accounts of the service for the command line and the API: open them on a database, add and list users.

Thin on purpose: :class:`~dossier_rules.server.accounts.Accounts` is the store
(being moved into the data-access module); this is where the interfaces reach
it, so neither the command line nor the pages import the service's modules.
"""

from __future__ import annotations

from pathlib import Path

from ..server.accounts import AccountError, Accounts, Role, User
from ..storage import Database

__all__ = ["AccountError", "Accounts", "Role", "User", "add_user", "open_accounts", "set_disabled", "users"]


def open_accounts(db: str | Path) -> Accounts:
    """The accounts kept in the service's database at ``db``."""
    return Accounts(Database(db))


def add_user(accounts: Accounts, username: str, password: str, role: Role, display_name: str | None = None, lang: str = "ja") -> User:
    """A new user (``AccountError`` for a taken name, a bad role or a short password)."""
    return accounts.add_user(username, password, role, display_name, lang)


def users(accounts: Accounts) -> list[User]:
    return accounts.users()


def set_disabled(accounts: Accounts, username: str, disabled: bool) -> User:
    """Disable (sessions end, tokens stop working) or enable a user (``AccountError`` when there is none)."""
    return accounts.set_disabled(username, disabled)
