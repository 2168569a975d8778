"""Rows of the registries' import history: who imported which list, from where, when, and its hash."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from .schema import registry_imports

MAX_HISTORY = 500
"""Imports listed per registry, newest first."""


def record_import(conn: Connection, **values: Any) -> None:
    conn.execute(registry_imports.insert().values(**values))


def history(conn: Connection, country: str | None = None, kind: str | None = None, limit: int = MAX_HISTORY) -> list[dict[str, Any]]:
    """Imports, newest first, of one registry or of all."""
    query = select(registry_imports).order_by(registry_imports.c.imported_at.desc(), registry_imports.c.id.desc()).limit(min(limit, MAX_HISTORY))
    if country:
        query = query.where(registry_imports.c.country == country)
    if kind:
        query = query.where(registry_imports.c.kind == kind)
    return [dict(r) for r in conn.execute(query).mappings()]
