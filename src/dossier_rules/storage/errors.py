"""The storage's refusals: a code and parameters, never a driver's exception or its text.

Interfaces render these in the user's language from the catalog by
``code``; ``params`` carry only what the message needs (never a row's
content, which may be personal). Nothing outside :mod:`dossier_rules.storage`
sees ``sqlite3.Error`` or a SQLAlchemy exception.
"""

from __future__ import annotations

from typing import Any


class StorageError(Exception):
    """A database operation that could not be done; ``code`` says which kind, ``params`` the details."""

    code = "storage_error"

    def __init__(self, message: str, **params: Any):
        super().__init__(message)
        self.params = params


class DatabaseUnavailable(StorageError):
    """The database cannot be reached or written now (locked, disk full, server down): try again later."""

    code = "db_unavailable"


class DatabaseCorrupt(StorageError):
    """The file is not a database of this service, or is damaged."""

    code = "db_corrupt"


class NeedsUpgrade(StorageError):
    """The database was made by an earlier release: ``dossier-rules db upgrade`` brings it to this one."""

    code = "db_needs_upgrade"


class TooNew(StorageError):
    """The database was upgraded by a later release than this one; this release cannot use it safely."""

    code = "db_too_new"


class Conflict(StorageError):
    """A write that would break a uniqueness the data relies on (a name taken, a notice already approved)."""

    code = "conflict"
