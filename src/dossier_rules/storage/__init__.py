"""The data-access module: every table and every SQL statement of the service database live here.

Services and interfaces call the functions of :mod:`.accounts`,
:mod:`.screenings`, :mod:`.log`, :mod:`.notices` and :mod:`.registries`
with a connection from :meth:`Database.read` or :meth:`Database.write`;
they never write SQL and never see a driver's exception (only
:mod:`.errors`' typed ones).
"""

from .database import Database, describe, is_service_database, is_url, lock, now_iso, private_file
from .errors import Conflict, DatabaseCorrupt, DatabaseUnavailable, DriverMissing, NeedsUpgrade, StorageError, TooNew

__all__ = [
    "Conflict",
    "Database",
    "DatabaseCorrupt",
    "DatabaseUnavailable",
    "DriverMissing",
    "NeedsUpgrade",
    "StorageError",
    "TooNew",
    "describe",
    "is_service_database",
    "is_url",
    "lock",
    "now_iso",
    "private_file",
]
