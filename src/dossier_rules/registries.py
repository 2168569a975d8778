"""Registries: the public lists the MOCs refer to, and look-ups that respect dates.

The MOCs make lists public: accredited sending agencies and revocations
(KH 5(1), 5(4), 6(2), 6(3); LA/KG/TJ 7(1), 7(2), 7(4), 6(1), 6(2)), improvement
orders against receiving organisations and registered support organisations
(KH 6(4); LA/KG/TJ 6(3)), and Japan may suspend acceptance per sector (art. 8;
PK 6). A check is only as good as the list it consults and the date it is
made for, so every entry has the dates it was listed and ended, and every
registry records its source and the date it was retrieved.

Files live in ``rules/registries/`` as ``<country>-<kind>.json`` (``JP`` for
Japan's lists), validated against ``schemas/registry.schema.json``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .sources import InputError, Problem, problems_from_validation, read_bytes

RegistryKind = Literal["accredited-agencies", "improvement-orders", "support-organisations", "suspended-sectors"]

JAPAN = "JP"
PARTNER = "partner"
KIND_KEEPERS: dict[str, str] = {
    "accredited-agencies": PARTNER,
    "improvement-orders": JAPAN,
    "support-organisations": JAPAN,
    "suspended-sectors": JAPAN,
}
"""Who keeps each list: the partner ministry accredits agencies (each partner country its own list);
Japan keeps the other three. Which partner countries keep a list is not fixed here: it is every country
whose pack has a rule that consults it (:meth:`dossier_rules.packs.PackSet.registry_keepers`)."""

REGISTRY_KINDS = frozenset(KIND_KEEPERS)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Entry(_Strict):
    """One listed organisation (or sector) and the period it was on the list."""

    id: str = Field(min_length=1, max_length=128, description="The key dossiers refer to: accreditation number, organisation id, or sector")
    name: str = Field(min_length=1)
    listed_from: date | None = Field(default=None, description="First day on the list (null: since before the registry's records)")
    ended_on: date | None = Field(default=None, description="First day no longer on the list")
    ended_because: Literal["revoked", "expired", "lifted", "withdrawn", "other"] | None = None
    note: str | None = None

    def active_on(self, day: date) -> bool:
        return (self.listed_from is None or self.listed_from <= day) and (self.ended_on is None or day < self.ended_on)

    def revoked_by(self, day: date) -> bool:
        return self.ended_because == "revoked" and self.ended_on is not None and self.ended_on <= day


class Registry(_Strict):
    """One list, as retrieved from one source on one date."""

    registry_version: Literal["1"] = "1"
    kind: RegistryKind
    country: str = Field(pattern=r"^[A-Z]{2}$", description="Who keeps the list: a partner country, or JP")
    source: str = Field(min_length=1, description="Where the list came from (publication, URL, letter)")
    retrieved_on: date
    sample: bool = Field(default=False, description="True for the fictional sample data shipped with the project")
    entries: list[Entry]


@dataclass(frozen=True)
class LoadedRegistry:
    registry: Registry
    path: Path
    sha256: str
    index: dict[str, tuple[Entry, ...]] = field(repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.registry.country, self.registry.kind)


def index_entries(registry: Registry) -> dict[str, tuple[Entry, ...]]:
    out: dict[str, list[Entry]] = {}
    for entry in registry.entries:
        out.setdefault(entry.id, []).append(entry)
    return {k: tuple(v) for k, v in out.items()}


def registry_file(directory: Path, country: str, kind: str) -> Path:
    return directory / f"{country.lower()}-{kind}.json"


def load_registry(path: Path) -> LoadedRegistry:
    raw = read_bytes(path, limit=None)
    try:
        registry = Registry.model_validate_json(raw)
    except ValidationError as exc:
        raise InputError(problems_from_validation(str(path), exc)) from None
    problems = []
    if (mismatch := keeper_problem(registry.country, registry.kind)) is not None:
        problems.append(Problem(str(path), mismatch, pointer="/country"))
    expected = registry_file(path.parent, registry.country, registry.kind).name
    if path.name != expected:
        problems.append(Problem(str(path), f"file name must be {expected} for this country and kind", kind="invalid"))
    if problems:
        raise InputError(problems)
    return LoadedRegistry(registry, path, hashlib.sha256(raw).hexdigest(), index_entries(registry))


@dataclass(frozen=True)
class Registries:
    """Every registry loaded, by (country, kind)."""

    by_key: dict[tuple[str, str], LoadedRegistry]

    @classmethod
    def empty(cls) -> "Registries":
        return cls({})

    def get(self, country: str, kind: str) -> LoadedRegistry | None:
        return self.by_key.get((keeper(country, kind), kind))

    def lists_for(self, country: str) -> dict[str, dict[str, tuple[Entry, ...]]]:
        """Kind -> index of the lists a dossier of ``country`` consults (computed once per country)."""
        cache = self.__dict__.setdefault("_lists", {})
        if country not in cache:
            cache[country] = {kind: loaded.index for kind in REGISTRY_KINDS if (loaded := self.get(country, kind)) is not None}
        return cache[country]

    def view(self, country: str, as_of: date) -> "RegistryView":
        return RegistryView(self, country, as_of)

    def __iter__(self) -> Iterator[LoadedRegistry]:
        return iter(sorted(self.by_key.values(), key=lambda r: r.key))


def keeper(country: str, kind: str) -> str:
    """Whose list to consult for a dossier of ``country``: the partner's own, or Japan's."""
    return JAPAN if KIND_KEEPERS[kind] == JAPAN else country


def keeper_problem(country: str, kind: str) -> str | None:
    """Why ``country`` cannot keep a ``kind`` list (None when it can, as far as the kind alone says)."""
    if KIND_KEEPERS[kind] == JAPAN and country != JAPAN:
        return f"the {kind} registry is kept by Japan (JP), not {country}"
    if KIND_KEEPERS[kind] == PARTNER and country == JAPAN:
        return f"the {kind} registry is kept by each partner country's ministry, not by Japan (JP)"
    return None


def load_registries(directory: Path) -> Registries:
    """Load every ``*.json`` registry in a directory; a missing directory means no registries."""
    if not directory.is_dir():
        return Registries.empty()
    problems: list[Problem] = []
    found: dict[tuple[str, str], LoadedRegistry] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            loaded = load_registry(path)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        found[loaded.key] = loaded
    if problems:
        raise InputError(problems)
    return Registries(found)


class RegistryView:
    """Look-ups for one dossier: its country's lists, as of its evaluation date.

    The engine shares one view among all dossiers of a country and date, so the
    ids listed (or revoked) on that date are worked out once per list, on its
    first look-up; each look-up is then one set membership.
    """

    __slots__ = ("_as_of", "_listed", "_lists", "_revoked")

    def __init__(self, registries: Registries, country: str, as_of: date):
        self._lists = registries.lists_for(country)
        self._as_of = as_of
        self._listed: dict[str, frozenset[str]] = {}
        self._revoked: dict[str, frozenset[str]] = {}

    def available(self, kind: str) -> bool:
        return kind in self._lists

    def listed(self, kind: str, key: Any) -> bool:
        ids = self._listed.get(kind)
        if ids is None:
            ids = self._listed[kind] = self._ids(kind, lambda e: e.active_on(self._as_of))
        return str(key) in ids

    def revoked(self, kind: str, key: Any) -> bool:
        ids = self._revoked.get(kind)
        if ids is None:
            ids = self._revoked[kind] = self._ids(kind, lambda e: e.revoked_by(self._as_of))
        return str(key) in ids

    def _ids(self, kind: str, holds: Any) -> frozenset[str]:
        """The ids of the list ``kind`` with an entry for which ``holds`` is true (none when the list is not loaded)."""
        index = self._lists.get(kind, {})
        return frozenset(key for key, entries in index.items() if any(holds(e) for e in entries))


# --------------------------------------------------------------------------- import

CSV_COLUMNS = ("id", "name", "listed_from", "ended_on", "ended_because", "note")


@dataclass
class ImportResult:
    entries: list[Entry]
    rejected: list[tuple[int, dict[str, str], str]]


def parse_csv(text: str, source: str) -> ImportResult:
    """Validate every row of a registry CSV; collect bad rows with their line numbers and reasons."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in ("id", "name") if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown:
        detail = "; ".join(filter(None, [missing and f"missing column(s) {', '.join(missing)}", unknown and f"unknown column(s) {', '.join(unknown)}"]))
        raise InputError([Problem(source, f"bad header: {detail}; expected {', '.join(CSV_COLUMNS)}", kind="schema", line=1)])
    result = ImportResult([], [])
    seen: dict[tuple[str, str | None], int] = {}
    for row in reader:
        line = reader.line_num
        values = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k is not None}
        if None in row:
            result.rejected.append((line, values, "more fields than columns"))
            continue
        data = {k: v for k, v in values.items() if v not in ("", None)}
        try:
            entry = Entry.model_validate(data)
        except ValidationError as exc:
            reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}" for e in exc.errors(include_url=False))
            result.rejected.append((line, values, reasons))
            continue
        if entry.listed_from and entry.ended_on and entry.ended_on < entry.listed_from:
            result.rejected.append((line, values, "ended_on is before listed_from"))
            continue
        key = (entry.id, entry.listed_from.isoformat() if entry.listed_from else None)
        if key in seen:
            result.rejected.append((line, values, f"duplicate of line {seen[key]} (same id and listed_from)"))
            continue
        seen[key] = line
        result.entries.append(entry)
    return result


def write_registry(registry: Registry, path: Path) -> None:
    """Write atomically: a reader never sees a half-written registry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(registry.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
