"""Accounts: users and roles, passwords, personal API tokens, browser sessions, login rate limits.

* Passwords are hashed with argon2id (``argon2-cffi``); nothing else about a
  password is stored. There is no default account: the first admin is made
  with ``dossier-rules users add``.
* API tokens and session ids are random 256-bit secrets shown once; only
  their SHA-256 is stored (a fast hash is enough for secrets with that much
  entropy, and lets a request be authenticated with one indexed look-up).
* Every password check is reserved (recorded as a failure) before argon2
  runs, in one transaction, so parallel guesses cannot all slip under the
  limit; a right password clears the reservation. Failures count per
  (account, address): past the limit that pair backs off (the wait doubles
  with each further failure, up to the window), and an address past its own
  limit is refused for any account. A right password from an address that
  has not failed is never refused, so guessing from elsewhere cannot lock a
  user out.

The store and what the command line and the API call on it (``open_accounts``,
``add_user``, ``users``, ``set_disabled``) are one module: the interfaces reach
accounts only through the application layer.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .. import storage
from ..storage import accounts as rows
from ..storage import now_iso

Role = Literal["screener", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("screener", "reviewer", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
"""Each role can do everything the roles before it can."""

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
TOKEN_PREFIX = "drt_"
MAX_TOKENS_PER_USER = 50
MAX_TOKEN_DAYS = 366
TOKEN_TOUCH_SECONDS = 60
"""``last_used`` is written at most once a minute per token, so authenticating stays a read."""
BACKOFF_SECONDS = 60
"""The first wait of an (account, address) pair past its limit; it doubles with each further failure."""

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(Exception):
    """A request the account store refuses (unknown user, weak password, ...)."""


class NotAllowed(AccountError):
    """A request this way of signing in may not make (a token creating tokens)."""


class LastAdmin(AccountError):
    """Disabling this user would leave no enabled admin to manage the service."""


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


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _user(row: dict[str, Any]) -> User:
    return User(row["id"], row["username"], row["display_name"], row["role"], bool(row["disabled"]), row["lang"], row["created_at"])


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")


class Accounts:
    """Users, tokens, sessions and login limits, stored in the service's database."""

    def __init__(self, db: storage.Database, failures_per_account: int = 5, failures_per_address: int = 20, window_seconds: int = 900):
        self.db = db
        self.failures_per_account = failures_per_account
        """Failures of one (account, address) pair before it backs off."""
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
        hashed = _hasher.hash(password)
        try:
            with self.db.write() as conn:
                if rows.user_by_name(conn, username):
                    raise AccountError(f"user {username} already exists")
                rows.insert_user(
                    conn, username=username, display_name=(display_name or username).strip(), role=role, password_hash=hashed, lang=lang, created_at=now_iso()
                )
        except storage.Conflict:
            raise AccountError(f"user {username} already exists") from None
        return self.user(username)

    def user(self, username: str) -> User:
        with self.db.read() as conn:
            row = rows.user_by_name(conn, username)
        if row is None:
            raise AccountError(f"no user {username}")
        return _user(row)

    def users(self) -> list[User]:
        with self.db.read() as conn:
            return [_user(r) for r in rows.all_users(conn)]

    def set_disabled(self, username: str, disabled: bool = True) -> User:
        """Disabling ends the user's sessions and revokes their tokens, so enabling again revives neither.

        The last enabled admin cannot be disabled (:class:`LastAdmin`): nobody could manage users afterwards.
        """
        user = self.user(username)
        with self.db.write() as conn:
            if disabled and user.role == "admin" and not user.disabled and rows.enabled_admins(conn) <= 1:
                raise LastAdmin(f"{username} is the last enabled admin; make another admin first")
            rows.update_user(conn, user.id, disabled=int(disabled))
            if disabled:
                rows.delete_user_sessions(conn, user.id)
                rows.revoke_all_tokens(conn, user.id, now_iso())
        return self.user(username)

    def reset_password(self, username: str, password: str) -> User:
        """A new password ends every session of the user and revokes their tokens (they may have leaked with it)."""
        check_password(password)
        user = self.user(username)
        hashed = _hasher.hash(password)
        with self.db.write() as conn:
            rows.update_user(conn, user.id, password_hash=hashed)
            rows.delete_user_sessions(conn, user.id)
            rows.revoke_all_tokens(conn, user.id, now_iso())
        return self.user(username)

    def change_password(self, user: User, current: str, new: str, address: str) -> User:
        """A user changes their own password: the current one is checked (with the login limits) first."""
        self.authenticate(user.username, current, address)
        return self.reset_password(user.username, new)

    def set_language(self, user: User, lang: str) -> User:
        if lang not in ("ja", "en"):
            raise AccountError("language must be ja or en")
        with self.db.write() as conn:
            rows.update_user(conn, user.id, lang=lang)
        return self.user(user.username)

    # ----------------------------------------------------------------- passwords and limits

    def authenticate(self, username: str, password: str, address: str) -> User:
        """The user, if the password is right and neither the (account, address) pair nor the address is over its limit.

        Every refusal says the same thing, so a caller cannot tell unknown
        users, wrong passwords and disabled accounts apart.
        """
        account = username.strip().casefold()
        with self.db.write() as conn:
            rows.lock_attempts(conn, account)
            wait = self._wait(conn, account, address, time.time())
            if wait:
                raise LoginLimited(wait)
            rows.reserve_attempt(conn, account, address, time.time())
            row = rows.user_by_name(conn, username.strip())
        try:
            _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
            ok = row is not None and not row["disabled"]
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or row is None:
            raise AccountError("unknown user, wrong password, or disabled account")
        rehashed = _hasher.hash(password) if _hasher.check_needs_rehash(row["password_hash"]) else None
        with self.db.write() as conn:
            rows.clear_failures(conn, account, address)
            if rehashed:
                rows.update_user(conn, row["id"], password_hash=rehashed)
        return _user(row)

    def _wait(self, conn: Any, account: str, address: str, now: float) -> int:
        """Seconds this pair (or this address) must wait before its next password check; 0 when it may try now."""
        since = now - self.window_seconds
        if rows.address_failures(conn, address, since) >= self.failures_per_address:
            return self.window_seconds
        count, last = rows.failures(conn, account, address, since)
        if count < self.failures_per_account or last is None:
            return 0
        delay = min(self.window_seconds, BACKOFF_SECONDS * 2 ** (count - self.failures_per_account))
        return max(0, int(last + delay - now + 0.999))

    def locked_out(self, username: str, address: str) -> bool:
        """Whether a login of this user from this address would be refused now without checking the password."""
        with self.db.read() as conn:
            return self._wait(conn, username.strip().casefold(), address, time.time()) > 0

    # ----------------------------------------------------------------- tokens

    def create_token(self, user: User, name: str, expires_days: int | None = None, by_token: bool = False) -> tuple[str, str]:
        """A new personal token: its id (for listing and revoking) and the secret, returned only now.

        A token cannot make tokens (``by_token``): a leaked token must not be
        able to outlive its own revocation. ``expires_days`` (1 to 366) makes
        it stop working after that many days.
        """
        if by_token:
            raise NotAllowed("a token cannot create tokens; sign in with your password to create one")
        if expires_days is not None and not 1 <= expires_days <= MAX_TOKEN_DAYS:
            raise AccountError(f"a token expires after 1 to {MAX_TOKEN_DAYS} days")
        name = name.strip()[:100] or "token"
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = "tok_" + secrets.token_hex(6)
        expires = _later(timedelta(days=expires_days)) if expires_days else None
        with self.db.write() as conn:
            if rows.live_tokens(conn, user.id) >= MAX_TOKENS_PER_USER:
                raise AccountError(f"a user has at most {MAX_TOKENS_PER_USER} live tokens; revoke one first")
            rows.insert_token(conn, id=token_id, user_id=user.id, name=name, secret_hash=secret_hash(secret), created_at=now_iso(), expires_at=expires)
        return token_id, secret

    def tokens(self, user: User) -> list[dict[str, str | None]]:
        with self.db.read() as conn:
            return rows.user_tokens(conn, user.id)

    def revoke_token(self, user: User, token_id: str) -> None:
        with self.db.write() as conn:
            done = rows.revoke_token(conn, user.id, token_id, now_iso())
        if not done:
            raise AccountError(f"no live token {token_id}")

    def user_for_token(self, secret: str) -> User | None:
        """The live, enabled user a token belongs to, or None; records when the token was last used."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        now = now_iso()
        with self.db.read() as conn:
            row = rows.token_owner(conn, secret_hash(secret), now)
        if row is None:
            return None
        last = row["token_last_used"]
        if last is None or datetime.fromisoformat(last) < datetime.now(UTC) - timedelta(seconds=TOKEN_TOUCH_SECONDS):
            with self.db.write() as conn:
                rows.touch_token(conn, row["token_id"], now)
        return _user(row)

    # ----------------------------------------------------------------- sessions

    def create_session(self, user: User, hours: int) -> tuple[str, Session]:
        """A new browser session: the cookie value (returned only now) and its CSRF token."""
        sid = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = _later(timedelta(hours=hours))
        with self.db.write() as conn:
            rows.insert_session(conn, now_iso(), id_hash=secret_hash(sid), user_id=user.id, csrf=csrf, created_at=now_iso(), expires_at=expires)
        return sid, Session(user, csrf, expires)

    def session(self, sid: str) -> Session | None:
        """The live session of an enabled user that a cookie names, or None."""
        if not sid or len(sid) > 200:
            return None
        with self.db.read() as conn:
            row = rows.session_owner(conn, secret_hash(sid), now_iso())
        return Session(_user(row), row["csrf"], row["session_expires_at"]) if row else None

    def end_session(self, sid: str) -> None:
        with self.db.write() as conn:
            rows.delete_session(conn, secret_hash(sid))


def _later(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).replace(microsecond=0).isoformat()


class LoginLimited(AccountError):
    """Too many failed logins for this account or address; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many failed logins; try again in {max(1, -(-retry_after // 60))} minutes")


def open_accounts(db: str | Path) -> Accounts:
    """The accounts kept in the service's database at ``db``."""
    return Accounts(storage.Database(db))


def add_user(accounts: Accounts, username: str, password: str, role: Role, display_name: str | None = None, lang: str = "ja") -> User:
    """A new user (``AccountError`` for a taken name, a bad role or a short password)."""
    return accounts.add_user(username, password, role, display_name, lang)


def users(accounts: Accounts) -> list[User]:
    return accounts.users()


def set_disabled(accounts: Accounts, username: str, disabled: bool) -> User:
    """Disable (sessions end, tokens stop working) or enable a user (``AccountError`` when there is none)."""
    return accounts.set_disabled(username, disabled)
