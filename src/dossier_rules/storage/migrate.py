"""Versioned migrations of the service database (Alembic), packaged with the code.

Revision ``0001`` is the schema of release 0.1, which had no version table:
a database with the service's tables and no version is that release's and
is stamped ``0001`` before upgrading. A new, empty database is created
from :data:`~dossier_rules.storage.schema.metadata` and stamped at the head
(the migrations produce the same schema; a test compares them).
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from .errors import NeedsUpgrade, TooNew
from .schema import metadata

FIRST_RELEASE = "0001"


def config(conn: Connection) -> Config:
    """Alembic's configuration, bound to a connection in an open transaction."""
    cfg = Config()
    cfg.set_main_option("script_location", "dossier_rules.storage:migrations")
    cfg.attributes["connection"] = conn
    return cfg


def head() -> str:
    """The revision this release's code expects."""
    revision = ScriptDirectory.from_config(config(None)).get_current_head()  # type: ignore[arg-type]  # no connection needed to read scripts
    assert revision is not None
    return revision


def current(conn: Connection) -> str | None:
    """The database's revision: None for an empty database; ``0001`` for release 0.1's unversioned one."""
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None and inspect(conn).has_table("users"):
        return FIRST_RELEASE
    return revision


def prepare(conn: Connection, upgrade: bool, where: str) -> str | None:
    """Create an empty database, or check (and if asked, upgrade) an existing one; the revision it was upgraded from."""
    revision = current(conn)
    target = head()
    if revision == target:
        return None
    cfg = config(conn)
    if revision is None:
        metadata.create_all(conn)
        command.stamp(cfg, "head")
        return None
    known = {script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()}
    if revision not in known:
        raise TooNew(where=where, revision=revision, head=target)
    if not upgrade:
        raise NeedsUpgrade(where=where, revision=revision, head=target)
    if MigrationContext.configure(conn).get_current_revision() is None:
        command.stamp(cfg, FIRST_RELEASE)
    command.upgrade(cfg, "head")
    return revision
