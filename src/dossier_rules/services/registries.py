"""Importing a registry from CSV, once for the command line and the API.

Every row is validated; with any bad row nothing is written
(``registry.bad_rows``, each row located) unless the caller asks to skip bad
rows, when the good ones are written and the bad ones reported beside the
registry. The fictional sample registries installed with the package are
never overwritten (``registry.sample``), whoever asks.
"""

from __future__ import annotations

import csv
import hashlib
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Connection

from .. import package_data
from ..cells import guard
from ..errors import DossierError
from ..packs import PackSet
from ..private_files import private_text
from ..problems import Problem
from ..registries import (
    CSV_COLUMNS,
    JAPAN,
    KIND_KEEPERS,
    PARTNER,
    REGISTRY_KINDS,
    ImportResult,
    Registry,
    csv_lines,
    load_registry,
    parse_csv,
    registry_file,
    write_registry,
)
from ..storage import Database
from ..storage import registries as import_history


@dataclass
class Imported:
    """What an import wrote: the registry file, its entries, the rows left out and where they were reported."""

    target: Path
    count: int
    retrieved_on: date
    rejected: list[tuple[int, dict[str, str], str]]
    report: Path | None


def check_keeper(packset: PackSet, country: str, kind: str) -> None:
    """Refuse a list nobody would consult: the keepers of a kind are those the packs present name."""
    if kind not in REGISTRY_KINDS:
        raise DossierError("registry.unknown_kind", kind=kind, kinds=sorted(REGISTRY_KINDS))
    if KIND_KEEPERS[kind] == JAPAN and country != JAPAN:
        raise DossierError("registry.kept_by_japan", kind=kind, country=country)
    if KIND_KEEPERS[kind] == PARTNER and country == JAPAN:
        raise DossierError("registry.kept_by_partner", kind=kind)
    keepers = packset.registry_keepers().get(kind, [])
    if country not in keepers:
        if keepers:
            raise DossierError("registry.unknown", country=country, kind=kind, keepers=list(keepers))
        raise DossierError("registry.not_consulted", country=country, kind=kind)


def parse(data: bytes | Path, source: str) -> ImportResult:
    """The rows of a CSV registry, a request's body or a file read as it is parsed (``registry.not_utf8``; ``InputError`` for a missing column)."""
    try:
        return parse_csv(csv_lines(data) if isinstance(data, Path) else data.decode("utf-8-sig"), source)
    except UnicodeDecodeError:
        raise DossierError("registry.not_utf8", location=source) from None


def import_registry(
    packset: PackSet,
    registries_dir: Path,
    country: str,
    kind: str,
    source: str,
    retrieved_on: date | None,
    data: bytes | Path,
    name: str,
    skip_bad: bool = False,
    history: tuple[Database | Connection, str] | None = None,
) -> Imported:
    """Validate and write one registry; the caller reloads its engine to screen with it.

    ``history`` (the service's database, or a connection inside the caller's transaction, and who imports)
    records the import there: when, by whom, from where, and the SHA-256 of the file written.
    """
    check_keeper(packset, country, kind)
    result = parse(data, name)
    target = registry_file(registries_dir, country, kind)
    if package_data.is_installed(target):
        raise DossierError("registry.sample")
    if result.rejected and not skip_bad:
        problems = [Problem(name, reason, kind="invalid", line=line) for line, _values, reason in result.rejected]
        raise DossierError("registry.bad_rows", location=name, problems=problems, count=len(result.rejected), good=len(result.entries))
    day = retrieved_on or date.today()
    count = len(result.entries)
    write_registry(Registry(kind=kind, country=country, source=source, retrieved_on=day, entries=result.entries), target)
    del result.entries[:]  # not needed any more: a million entries are worth freeing before the index is built
    load_registry(target)  # a large list gets its look-up index now, once, not at the first screening
    report = _report_rejected(target, result.rejected) if result.rejected else None
    if history is not None:
        _record(history, target, country, kind, source, day, count)
    return Imported(target, count, day, result.rejected, report)


def _record(history: tuple[Database | Connection, str], target: Path, country: str, kind: str, source: str, day: date, count: int) -> None:
    where, who = history
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    with where.write() if isinstance(where, Database) else nullcontext(where) as conn:
        import_history.record_import(
            conn,
            country=country,
            kind=kind,
            source=source,
            retrieved_on=day.isoformat(),
            entries=count,
            sha256=digest,
            imported_by=who,
            imported_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        )


def _report_rejected(target: Path, rejected: list[tuple[int, dict[str, str], str]]) -> Path:
    """The rows left out, with their reasons, beside the registry (spreadsheet-safe)."""
    report = target.with_name(target.name + ".rejected.csv")
    with private_text(report) as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "reason", *CSV_COLUMNS])
        for line, values, reason in rejected:
            writer.writerow([line, *(guard(str(v)) for v in (reason, *(values.get(c) or "" for c in CSV_COLUMNS)))])
    return report
