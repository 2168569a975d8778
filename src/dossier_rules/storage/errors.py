"""The storage's refusals: typed errors (a ``storage.*`` code and parameters), never a driver's exception or its text.

They are :class:`~dossier_rules.errors.DossierError` like every other refusal:
interfaces word them from the catalog in the user's language, or choose their
own words by ``code`` (the API answers 503 or 409 without naming the database). Parameters name places and versions, never a row's
content (which may be personal). Nothing outside :mod:`dossier_rules.storage`
sees ``sqlite3.Error`` or a SQLAlchemy exception.
"""

from __future__ import annotations

from typing import Any

from ..errors import DossierError


class StorageError(DossierError):
    """A database operation that could not be done; ``code`` says which kind, ``params`` the details."""

    CODE = "storage.error"

    def __init__(self, **params: Any):
        super().__init__(self.CODE, **params)


class DatabaseUnavailable(StorageError):
    """The database cannot be reached or written now (locked, disk full, server down): try again later."""

    CODE = "storage.unavailable"


class DriverMissing(StorageError):
    """A PostgreSQL URL, and psycopg is not installed (it comes with the ``server`` extra)."""

    CODE = "storage.driver_missing"


class DatabaseCorrupt(StorageError):
    """The file is not a database of this service, or is damaged."""

    CODE = "storage.corrupt"


class NeedsUpgrade(StorageError):
    """The database was made by an earlier release: ``dossier-rules db upgrade`` brings it to this one."""

    CODE = "storage.needs_upgrade"


class TooNew(StorageError):
    """The database was upgraded by a later release than this one; this release cannot use it safely."""

    CODE = "storage.too_new"


class Conflict(StorageError):
    """A write that would break a uniqueness the data relies on (a name taken, a notice already approved)."""

    CODE = "storage.conflict"
