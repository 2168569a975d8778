"""The storage's refusals: a code, parameters and an English template, never a driver's exception or its text.

Interfaces render ``template`` (marked for the catalog) with ``params`` in
the user's language, or choose their own words by ``code``; ``str(error)``
is the English text. Parameters name places and versions, never a row's
content (which may be personal). Nothing outside :mod:`dossier_rules.storage`
sees ``sqlite3.Error`` or a SQLAlchemy exception.
"""

from __future__ import annotations

from typing import Any

from ..locale import N_


class StorageError(Exception):
    """A database operation that could not be done; ``code`` says which kind, ``params`` the details."""

    code = "storage_error"
    template = N_("{where}: the database cannot be used")

    def __init__(self, **params: Any):
        self.params = params
        super().__init__(self.template.format(**params))


class DatabaseUnavailable(StorageError):
    """The database cannot be reached or written now (locked, disk full, server down): try again later."""

    code = "db_unavailable"
    template = N_("{where}: the database cannot be used now ({reason}); try again later")


class DriverMissing(StorageError):
    """A PostgreSQL URL, and psycopg is not installed (it comes with the ``server`` extra)."""

    code = "db_driver_missing"
    template = N_("{where}: PostgreSQL needs the psycopg driver: pip install 'dossier-rules[server]'")


class DatabaseCorrupt(StorageError):
    """The file is not a database of this service, or is damaged."""

    code = "db_corrupt"
    template = N_("{where}: not a database of this service, or damaged")


class NeedsUpgrade(StorageError):
    """The database was made by an earlier release: ``dossier-rules db upgrade`` brings it to this one."""

    code = "db_needs_upgrade"
    template = N_("{where} has schema {revision}, this release needs {head}: run dossier-rules db upgrade")


class TooNew(StorageError):
    """The database was upgraded by a later release than this one; this release cannot use it safely."""

    code = "db_too_new"
    template = N_("{where} was upgraded by a later release (schema {revision}; this release knows up to {head})")


class Conflict(StorageError):
    """A write that would break a uniqueness the data relies on (a name taken, a notice already approved)."""

    code = "conflict"
    template = N_("{where}: the change conflicts with stored data")
