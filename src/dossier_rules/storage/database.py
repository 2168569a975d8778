"""The service's database: a SQLite file (the embedded default) or a PostgreSQL server, one interface.

``--db`` takes a path (SQLite) or a ``postgresql://`` URL (psycopg 3, behind
SQLAlchemy's connection pool). Every write is one short transaction
(:meth:`Database.write`): on SQLite it is taken at once (``BEGIN
IMMEDIATE``), which serialises writers; on PostgreSQL, work that must be
totally ordered across processes (the screening log's head, a login
limit) also takes a transaction-scoped advisory lock (:func:`lock`). Readers
never wait for writers (SQLite runs in WAL mode).

A SQLite file and its directory hold personal data: the file is created
0600 and its directory, when this creates it, 0700, whatever the umask.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from . import migrate
from .errors import Conflict, DatabaseCorrupt, DatabaseUnavailable, DriverMissing, StorageError

POOL_SIZE = 8
"""Connections kept open per process; up to as many again are opened under load, then requests wait."""
BUSY_TIMEOUT_MS = 60_000
"""How long a SQLite writer waits for another before the request fails with ``db_unavailable``."""


def is_url(location: str | Path) -> bool:
    """Whether ``--db`` names a PostgreSQL server rather than a SQLite file."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))


def _sqlalchemy_url(location: str | Path) -> str:
    if is_url(location):
        rest = str(location).split("://", 1)[1]
        return "postgresql+psycopg://" + rest
    return "sqlite+pysqlite:///" + str(Path(location))


def describe(location: str | Path) -> str:
    """Where the database is, for messages: a path, or a URL without its password."""
    if is_url(location):
        return make_url(_sqlalchemy_url(location)).render_as_string(hide_password=True).replace("postgresql+psycopg://", "postgresql://")
    return str(location)


def now_iso() -> str:
    """The time a row or log entry is written, as every table records it (UTC, to the second, ISO 8601)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def is_service_database(path: Path) -> bool:
    """Whether the SQLite file at ``path`` is a service's database (it has user accounts), read without changing it.

    A stand-alone outbox has the same tables but no accounts. In a service's
    database notices change only as one of its reviewers, and the log says who.
    """
    if not path.is_file():
        return False
    try:
        with closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'").fetchone() is None:
                return False
            return conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None
    except sqlite3.DatabaseError:
        return False  # not a database at all: opening it says so


def private_file(path: Path) -> None:
    """Create ``path`` (and its directory) readable by its owner only, or tighten a file this user owns."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
        os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        if os.fstat(fd).st_uid == os.geteuid():
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _sqlite_connect(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun below, explicitly
    cursor = dbapi_connection.cursor()
    for pragma in ("foreign_keys=ON", f"busy_timeout={BUSY_TIMEOUT_MS}", "journal_mode=WAL"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """A write transaction takes the write lock at once, so it never fails half-way on a busy file."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


def _engine(location: str | Path) -> Engine:
    url = _sqlalchemy_url(location)
    if is_url(location):
        try:
            return create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE, pool_pre_ping=True, pool_timeout=60)
        except ImportError:
            raise DriverMissing(where=describe(location)) from None
    private_file(Path(location))
    engine = create_engine(
        url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE, pool_timeout=60, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
    )
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


@contextmanager
def _mapped_errors(where: str) -> Iterator[None]:
    """Driver errors become the storage's own: unavailable (retry later), corrupt, or a conflict."""
    try:
        yield
    except exc.IntegrityError as error:
        raise Conflict(where=where) from error
    except (exc.OperationalError, exc.TimeoutError) as error:
        if not temporary(error):
            raise  # a fault of the program (no such table, a syntax error): not something to retry
        reason = _reason(error) or "busy, full or unreachable"
        raise DatabaseUnavailable(where=where, reason=reason) from error
    except exc.DatabaseError as error:
        if isinstance(error, exc.ProgrammingError):
            raise
        raise DatabaseCorrupt(where=where) from error


TEMPORARY_SQLITE = (
    "database is locked",
    "database table is locked",
    "database or disk is full",
    "disk i/o error",
    "unable to open database file",
    "attempt to write a readonly database",
)
"""SQLite errors that are the state of the file or its disk (a lock held elsewhere, a full disk, a read-only file),
not a fault of the request or the program: the operator can mend them, and the request can be tried again."""


def temporary(error: BaseException) -> bool:
    """Whether a driver error means "busy, full or unreachable: try again later".

    SQLite reports both states and faults as ``OperationalError``, so its
    message decides; PostgreSQL's operational errors are the server's state
    (unreachable, shutting down, out of space), and a pool timeout is too.
    """
    original = getattr(error, "orig", None) or error.__cause__ or error
    if isinstance(original, sqlite3.Error):
        return any(mark in str(original).lower() for mark in TEMPORARY_SQLITE)
    return isinstance(error, exc.OperationalError | exc.TimeoutError)


def _reason(error: Exception) -> str:
    """The driver's own first line (never SQLAlchemy's text, which quotes the statement and its values)."""
    original = getattr(error, "orig", None)
    return str(original).strip().splitlines()[0][:200] if original is not None and str(original).strip() else ""


class Database:
    """The service's database; connections come from a pool and are used one transaction at a time.

    Opening a database that does not exist yet creates it at the current
    schema. One made by an earlier release is upgraded only when
    ``upgrade`` is true (``dossier-rules db upgrade``, ``serve --upgrade``);
    otherwise opening it raises :class:`~dossier_rules.storage.errors.NeedsUpgrade`.
    """

    def __init__(self, location: str | Path, upgrade: bool = False):
        self.location = location
        self.where = describe(location)
        with _mapped_errors(self.where):
            self.engine = _engine(location)
            try:
                with self.write() as conn:
                    lock(conn, "schema")
                    self.upgraded_from = migrate.prepare(conn, upgrade, self.where)
            except StorageError:
                self.engine.dispose()
                raise

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only look at a consistent snapshot (rolled back at the end)."""
        with _mapped_errors(self.where), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed whole, or rolled back if anything in it raises."""
        with _mapped_errors(self.where), self.engine.connect() as conn:
            conn.execution_options(write=True)
            with conn.begin():
                yield conn

    def ping(self) -> None:
        """Raise unless the database answers and accepts a write transaction (readiness)."""
        with self.write() as conn:
            conn.execute(text("SELECT 1"))

    def write_problem(self, lock_wait: float, min_free_bytes: int) -> str | None:
        """Why the database could not take a write now (None: it could), without writing anything (readiness).

        On SQLite a connection of its own waits at most ``lock_wait`` seconds
        for the write lock (not the service's long busy timeout), and the disk
        beside the file must have ``min_free_bytes`` free; on PostgreSQL the
        server must answer a write transaction.
        """
        if self.dialect != "sqlite":
            try:
                self.ping()
            except StorageError as exc:
                return f"database: {exc.params.get('reason') or exc.code}"
            return None
        path = Path(self.location)
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=lock_wait)) as conn:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            return f"database: {exc}"
        if shutil.disk_usage(path.parent).free < min_free_bytes:
            return f"database: less than {min_free_bytes // (1024 * 1024)} MiB free on its disk"
        return None

    def close(self) -> None:
        self.engine.dispose()


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"dossier-rules:{name}".encode()).digest()[:8], "big", signed=True)


def lock(conn: Connection, name: str) -> None:
    """Serialise, across processes, the writers that name the same lock, until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: nothing more is
    needed, a write transaction already holds the file's only write lock.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(name)})


def rows(result: Any) -> list[dict[str, Any]]:
    """Result rows as plain dicts (column name to value)."""
    return [dict(r) for r in result.mappings()]
