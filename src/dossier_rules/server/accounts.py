"""Accounts: users and roles, passwords, personal API tokens, browser sessions, login rate limits.

* Passwords are hashed with argon2id (``argon2-cffi``); nothing else about a
  password is stored. There is no default account: the first admin is made
  with ``dossier-rules users add``.
* API tokens and session ids are random 256-bit secrets shown once; only
  their SHA-256 is stored (a fast hash is enough for secrets with that much
  entropy, and lets a request be authenticated with one indexed look-up).
* Failed logins are counted per account and per client address in a sliding
  window; past the limit, logins are refused until the window moves on, even
  with the right password, so guessing cannot continue.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .db import Database

Role = Literal["screener", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("screener", "reviewer", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
"""Each role can do everything the roles before it can."""

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
TOKEN_PREFIX = "drt_"
MAX_TOKENS_PER_USER = 50

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(Exception):
    """A request the account store refuses (unknown user, weak password, ...)."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: Role
    disabled: bool
    lang: str
    created_at: str

    def can(self, role: Role) -> bool:
        """Whether this user holds ``role`` or a role above it."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires_at: str


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _user(row: sqlite3.Row) -> User:
    return User(row["id"], row["username"], row["display_name"], row["role"], bool(row["disabled"]), row["lang"], row["created_at"])


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")


class Accounts:
    """Users, tokens, sessions and login limits, stored in the service's database."""

    def __init__(self, db: Database, failures_per_account: int = 5, failures_per_address: int = 20, window_seconds: int = 900):
        self.db = db
        self.failures_per_account = failures_per_account
        self.failures_per_address = failures_per_address
        self.window_seconds = window_seconds

    # ----------------------------------------------------------------- users

    def add_user(self, username: str, password: str, role: Role, display_name: str | None = None, lang: str = "ja") -> User:
        username = username.strip()
        if not username or len(username) > 64 or any(c.isspace() for c in username):
            raise AccountError("a username is 1 to 64 characters without spaces")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        check_password(password)
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise AccountError(f"user {username} already exists")
            conn.execute(
                "INSERT INTO users (username, display_name, role, password_hash, lang, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (username, (display_name or username).strip(), role, _hasher.hash(password), lang, now_iso()),
            )
        return self.user(username)

    def user(self, username: str) -> User:
        row = self.db.connection().execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            raise AccountError(f"no user {username}")
        return _user(row)

    def users(self) -> list[User]:
        return [_user(r) for r in self.db.connection().execute("SELECT * FROM users ORDER BY username")]

    def set_disabled(self, username: str, disabled: bool = True) -> User:
        """Disabling also ends the user's sessions; their tokens stop working while disabled."""
        user = self.user(username)
        with self.db.write() as conn:
            conn.execute("UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), user.id))
            conn.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
        return self.user(username)

    def reset_password(self, username: str, password: str) -> User:
        """A new password ends every session of the user (tokens are revoked separately)."""
        check_password(password)
        user = self.user(username)
        with self.db.write() as conn:
            conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (_hasher.hash(password), user.id))
            conn.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
        return self.user(username)

    def set_language(self, user: User, lang: str) -> User:
        if lang not in ("ja", "en"):
            raise AccountError("language must be ja or en")
        with self.db.write() as conn:
            conn.execute("UPDATE users SET lang = ? WHERE id = ?", (lang, user.id))
        return self.user(user.username)

    # ----------------------------------------------------------------- passwords and limits

    def authenticate(self, username: str, password: str, address: str) -> User:
        """The user, if the password is right and neither the account nor the address is over its limit.

        Every refusal says the same thing, so a caller cannot tell unknown
        users, wrong passwords and disabled accounts apart.
        """
        refused = AccountError("unknown user, wrong password, or disabled account")
        keys = (f"user:{username.strip().casefold()}", f"addr:{address}")
        if self.locked_out(username, address):
            raise LoginLimited(self.window_seconds)
        row = self.db.connection().execute("SELECT * FROM users WHERE username = ?", (username.strip(),)).fetchone()
        try:
            _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
            ok = row is not None and not row["disabled"]
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            with self.db.write() as conn:
                conn.executemany("INSERT INTO login_failures (key, at) VALUES (?, ?)", [(k, time.time()) for k in keys])
            raise refused
        if _hasher.check_needs_rehash(row["password_hash"]):
            with self.db.write() as conn:
                conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (_hasher.hash(password), row["id"]))
        with self.db.write() as conn:
            conn.execute("DELETE FROM login_failures WHERE key = ?", (keys[0],))
        return _user(row)

    def locked_out(self, username: str, address: str) -> bool:
        conn = self.db.connection()
        since = time.time() - self.window_seconds
        conn.execute("DELETE FROM login_failures WHERE at < ?", (since,))

        def failures(key: str) -> int:
            return int(conn.execute("SELECT COUNT(*) FROM login_failures WHERE key = ? AND at >= ?", (key, since)).fetchone()[0])

        return failures(f"user:{username.strip().casefold()}") >= self.failures_per_account or failures(f"addr:{address}") >= self.failures_per_address

    # ----------------------------------------------------------------- tokens

    def create_token(self, user: User, name: str) -> tuple[str, str]:
        """A new personal token: its id (for listing and revoking) and the secret, returned only now."""
        name = name.strip()[:100] or "token"
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = "tok_" + secrets.token_hex(6)
        with self.db.write() as conn:
            live = conn.execute("SELECT COUNT(*) FROM tokens WHERE user_id = ? AND revoked_at IS NULL", (user.id,)).fetchone()[0]
            if live >= MAX_TOKENS_PER_USER:
                raise AccountError(f"a user has at most {MAX_TOKENS_PER_USER} live tokens; revoke one first")
            conn.execute(
                "INSERT INTO tokens (id, user_id, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                (token_id, user.id, name, secret_hash(secret), now_iso()),
            )
        return token_id, secret

    def tokens(self, user: User) -> list[dict[str, str | None]]:
        rows = self.db.connection().execute(
            "SELECT id, name, created_at, last_used, revoked_at FROM tokens WHERE user_id = ? ORDER BY created_at, id", (user.id,)
        )
        return [dict(r) for r in rows]

    def revoke_token(self, user: User, token_id: str) -> None:
        with self.db.write() as conn:
            done = conn.execute("UPDATE tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL", (now_iso(), token_id, user.id)).rowcount
        if not done:
            raise AccountError(f"no live token {token_id}")

    def user_for_token(self, secret: str) -> User | None:
        """The live, enabled user a token belongs to, or None."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        row = (
            self.db.connection()
            .execute(
                "SELECT u.*, t.id AS token_id FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ? AND t.revoked_at IS NULL AND u.disabled = 0",
                (secret_hash(secret),),
            )
            .fetchone()
        )
        return _user(row) if row else None

    # ----------------------------------------------------------------- sessions

    def create_session(self, user: User, hours: int) -> tuple[str, Session]:
        """A new browser session: the cookie value (returned only now) and its CSRF token."""
        sid = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).isoformat()
        with self.db.write() as conn:
            conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now_iso(),))
            conn.execute(
                "INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (secret_hash(sid), user.id, csrf, now_iso(), expires),
            )
        return sid, Session(user, csrf, expires)

    def session(self, sid: str) -> Session | None:
        """The live session of an enabled user that a cookie names, or None."""
        if not sid or len(sid) > 200:
            return None
        row = (
            self.db.connection()
            .execute(
                "SELECT u.*, s.csrf, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ? AND u.disabled = 0",
                (secret_hash(sid), now_iso()),
            )
            .fetchone()
        )
        return Session(_user(row), row["csrf"], row["expires_at"]) if row else None

    def end_session(self, sid: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM sessions WHERE id_hash = ?", (secret_hash(sid),))


class LoginLimited(AccountError):
    """Too many failed logins for this account or address; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many failed logins; try again in {retry_after // 60} minutes")
