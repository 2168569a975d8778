"""Rows of accounts: users, personal tokens, browser sessions, and login attempts.

Only hashes of secrets are stored (see :mod:`dossier_rules.services.accounts`).
Functions take a connection from ``Database.read`` or ``Database.write``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from .database import lock
from .schema import login_attempts, sessions, tokens, users


def _one(conn: Connection, query: Any) -> dict[str, Any] | None:
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


# --------------------------------------------------------------------------- users


def user_by_name(conn: Connection, username: str) -> dict[str, Any] | None:
    return _one(conn, select(users).where(users.c.username == username))


def all_users(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(users).order_by(users.c.username)).mappings()]


def insert_user(conn: Connection, **values: Any) -> None:
    conn.execute(users.insert().values(**values))


def update_user(conn: Connection, user_id: int, **values: Any) -> None:
    conn.execute(users.update().where(users.c.id == user_id).values(**values))


def enabled_admins(conn: Connection) -> int:
    """How many enabled admins there are (under a lock, so two disables cannot both pass the check)."""
    lock(conn, "admins")
    return int(conn.execute(select(func.count()).select_from(users).where(users.c.role == "admin", users.c.disabled == 0)).scalar_one())


# --------------------------------------------------------------------------- tokens


def live_tokens(conn: Connection, user_id: int) -> int:
    return int(conn.execute(select(func.count()).select_from(tokens).where(tokens.c.user_id == user_id, tokens.c.revoked_at.is_(None))).scalar_one())


def insert_token(conn: Connection, **values: Any) -> None:
    conn.execute(tokens.insert().values(**values))


def user_tokens(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    columns = (tokens.c.id, tokens.c.name, tokens.c.created_at, tokens.c.last_used, tokens.c.revoked_at, tokens.c.expires_at)
    query = select(*columns).where(tokens.c.user_id == user_id).order_by(tokens.c.created_at, tokens.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def revoke_token(conn: Connection, user_id: int, token_id: str, at: str) -> bool:
    """Revoke one live token of the user; whether there was one."""
    query = tokens.update().where(tokens.c.id == token_id, tokens.c.user_id == user_id, tokens.c.revoked_at.is_(None)).values(revoked_at=at)
    return bool(conn.execute(query).rowcount)


def revoke_all_tokens(conn: Connection, user_id: int, at: str) -> int:
    """Revoke every live token of the user; how many."""
    return int(conn.execute(tokens.update().where(tokens.c.user_id == user_id, tokens.c.revoked_at.is_(None)).values(revoked_at=at)).rowcount)


def token_owner(conn: Connection, secret_hash: str, now: str) -> dict[str, Any] | None:
    """The enabled user of a live, unexpired token (with ``token_id`` and ``token_last_used``), or None."""
    query = (
        select(users, tokens.c.id.label("token_id"), tokens.c.last_used.label("token_last_used"))
        .join(users, users.c.id == tokens.c.user_id)
        .where(
            tokens.c.secret_hash == secret_hash,
            tokens.c.revoked_at.is_(None),
            or_(tokens.c.expires_at.is_(None), tokens.c.expires_at > now),
            users.c.disabled == 0,
        )
    )
    return _one(conn, query)


def touch_token(conn: Connection, token_id: str, at: str) -> None:
    conn.execute(tokens.update().where(tokens.c.id == token_id).values(last_used=at))


# --------------------------------------------------------------------------- sessions


def insert_session(conn: Connection, now: str, **values: Any) -> None:
    """Store a session, dropping expired ones on the way."""
    conn.execute(sessions.delete().where(sessions.c.expires_at < now))
    conn.execute(sessions.insert().values(**values))


def session_owner(conn: Connection, id_hash: str, now: str) -> dict[str, Any] | None:
    """The enabled user of a live session (with ``csrf`` and ``expires_at``), or None."""
    query = (
        select(users, sessions.c.csrf, sessions.c.expires_at.label("session_expires_at"))
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.id_hash == id_hash, sessions.c.expires_at > now, users.c.disabled == 0)
    )
    return _one(conn, query)


def delete_session(conn: Connection, id_hash: str) -> None:
    conn.execute(sessions.delete().where(sessions.c.id_hash == id_hash))


def delete_user_sessions(conn: Connection, user_id: int) -> None:
    conn.execute(sessions.delete().where(sessions.c.user_id == user_id))


# --------------------------------------------------------------------------- login attempts


def lock_attempts(conn: Connection, account: str) -> None:
    """Serialise reservations for one account across processes (until the transaction ends)."""
    lock(conn, f"login:{account}")


def failures(conn: Connection, account: str, address: str, since: float) -> tuple[int, float | None]:
    """Attempts counted against (account, address) since ``since``: how many, and when the last was."""
    query = select(func.count(), func.max(login_attempts.c.at)).where(
        login_attempts.c.account == account, login_attempts.c.address == address, login_attempts.c.failed == 1, login_attempts.c.at >= since
    )
    count, last = conn.execute(query).one()
    return int(count), last


def address_failures(conn: Connection, address: str, since: float) -> int:
    query = (
        select(func.count()).select_from(login_attempts).where(login_attempts.c.address == address, login_attempts.c.failed == 1, login_attempts.c.at >= since)
    )
    return int(conn.execute(query).scalar_one())


def reserve_attempt(conn: Connection, account: str, address: str, at: float) -> int:
    """Record an attempt as failed before its password is checked; the id clears it if the password was right."""
    conn.execute(login_attempts.delete().where(login_attempts.c.at < at - 86_400))
    key = conn.execute(login_attempts.insert().values(account=account, address=address, at=at, failed=1)).inserted_primary_key
    assert key is not None
    return int(key[0])


def clear_failures(conn: Connection, account: str, address: str) -> None:
    """A right password from this address: its earlier failures on this account no longer count."""
    conn.execute(login_attempts.delete().where(and_(login_attempts.c.account == account, login_attempts.c.address == address)))
