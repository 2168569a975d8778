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
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from .model import parse_date
from .problems import InputError, Problem
from .sources import open_input, problems_from_validation, read_bytes

RegistryKind = Literal["accredited-agencies", "improvement-orders", "support-organisations", "suspended-sectors", "intermediary-reports"]

JAPAN = "JP"
PARTNER = "partner"
KIND_KEEPERS: dict[str, str] = {
    "accredited-agencies": PARTNER,
    "improvement-orders": JAPAN,
    "support-organisations": JAPAN,
    "suspended-sectors": JAPAN,
    "intermediary-reports": PARTNER,
}
"""Who keeps each list: the partner ministry accredits agencies (each partner country its own list), and the
information it shares under 4(1) about an intermediary's acts is a list of its own (``intermediary-reports``:
one entry per report received, from the day Japan received it until the partner withdraws it or a later
report about the same intermediary supersedes it); Japan keeps the other three. Which partner countries keep a list is not fixed here: it is every country
whose pack has a rule that consults it (:meth:`dossier_rules.packs.PackSet.registry_keepers`)."""

REGISTRY_KINDS = frozenset(KIND_KEEPERS)

REPORTS = "intermediary-reports"
"""The kind whose entries are the partner's 4(1) reports about intermediaries: a finding that consults it cites
the reports it matched (:meth:`RegistryView.reports`), each entry's note naming the message received."""

MAX_REGISTRY_BYTES = 512 * 1024 * 1024
"""Above this a registry file is refused (a list of a million entries is about 150 MB)."""


class _RegistryPart(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _iso_date(value: Any) -> Any:
    """A date as written ``YYYY-MM-DD``, nothing else: pydantic alone reads ``"0"`` as 1970-01-01 (a Unix time)."""
    if isinstance(value, date) or (isinstance(value, str) and parse_date(value) is not None):
        return value
    raise ValueError(f"not a date: use YYYY-MM-DD, e.g. 2025-06-01 (got {str(value)[:40]!r})")


StrictDate = Annotated[date, BeforeValidator(_iso_date)]
"""The date type of registries, in files and CSV imports alike: strict ``YYYY-MM-DD``."""


class Entry(_RegistryPart):
    """One listed organisation (or sector) and the period it was on the list."""

    id: str = Field(min_length=1, max_length=128, description="The key dossiers refer to: accreditation number, organisation id, or sector")
    name: str = Field(min_length=1)
    listed_from: StrictDate | None = Field(default=None, description="First day on the list (null: since before the registry's records)")
    ended_on: StrictDate | None = Field(default=None, description="First day no longer on the list")
    ended_because: Literal["revoked", "expired", "lifted", "withdrawn", "superseded", "other"] | None = None
    note: str | None = None

    def active_on(self, day: date) -> bool:
        return (self.listed_from is None or self.listed_from <= day) and (self.ended_on is None or day < self.ended_on)

    def revoked_by(self, day: date) -> bool:
        return self.ended_because == "revoked" and self.ended_on is not None and self.ended_on <= day


class Registry(_RegistryPart):
    """One list, as retrieved from one source on one date."""

    registry_version: Literal["1"] = "1"
    kind: RegistryKind
    country: str = Field(pattern=r"^[A-Z]{2}$", description="Who keeps the list: a partner country, or JP")
    source: str = Field(min_length=1, description="Where the list came from (publication, URL, letter)")
    retrieved_on: StrictDate
    sample: bool = Field(default=False, description="True for the fictional sample data shipped with the project")
    entries: list[Entry]


class RegistryIndex:
    """A registry's entries in an SQLite file, looked up by id: what a large registry costs at each start.

    A list of a million entries, parsed from JSON into objects at every
    ``check``, cost seconds and gigabytes before the first dossier; the index
    is built once (at import, or on first use) and named by the registry
    file's SHA-256, so it serves exactly that file. Connections are opened
    read-only and per process (workers are forked).
    """

    def __init__(self, path: Path, count: int):
        self.path = path
        self.count = count
        self._conn: Any = None
        self._pid = 0

    def _db(self) -> Any:
        import sqlite3  # only for large registries: check imports nothing it does not use

        if self._conn is None or self._pid != os.getpid():
            self._conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            self._pid = os.getpid()
        return self._conn

    def get(self, key: str, default: tuple[Entry, ...] = ()) -> tuple[Entry, ...]:
        rows = self._db().execute("SELECT entry FROM entries WHERE id = ? ORDER BY seq", (key,)).fetchall()
        return tuple(Entry.model_validate_json(row[0]) for row in rows) or default

    def __iter__(self) -> Iterator[Entry]:
        for (entry,) in self._db().execute("SELECT entry FROM entries ORDER BY seq"):
            yield Entry.model_validate_json(entry)

    def items(self) -> Iterator[tuple[str, tuple[Entry, ...]]]:
        """(id, its entries) for every id, as the in-memory index gives them."""
        current = ""  # the id of the entries in ``group`` (set before the first is added)
        group: list[Entry] = []
        for key, entry in self._db().execute("SELECT id, entry FROM entries ORDER BY id, seq"):
            if key != current and group:
                yield current, tuple(group)
                group = []
            current = key
            group.append(Entry.model_validate_json(entry))
        if group:
            yield current, tuple(group)


INDEX_ABOVE_BYTES = 1024 * 1024
"""Registry files larger than this are looked up through an SQLite index instead of being loaded whole."""


EntryIndex = dict[str, tuple[Entry, ...]] | RegistryIndex
"""A registry's entries by id: in memory, or (a large registry) in its SQLite index."""


@dataclass(frozen=True)
class LoadedRegistry:
    """A registry ready for look-ups; ``registry`` holds its header (and, when small, its entries)."""

    registry: Registry
    path: Path
    sha256: str
    index: EntryIndex = field(repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.registry.country, self.registry.kind)

    @property
    def count(self) -> int:
        """How many entries the registry has."""
        return self.index.count if isinstance(self.index, RegistryIndex) else len(self.registry.entries)

    def entries(self) -> Iterator[Entry]:
        """Every entry, in file order."""
        return iter(self.index) if isinstance(self.index, RegistryIndex) else iter(self.registry.entries)


def index_entries(registry: Registry) -> dict[str, tuple[Entry, ...]]:
    out: dict[str, list[Entry]] = {}
    for entry in registry.entries:
        out.setdefault(entry.id, []).append(entry)
    return {k: tuple(v) for k, v in out.items()}


def registry_file(directory: Path, country: str, kind: str) -> Path:
    return directory / f"{country.lower()}-{kind}.json"


def load_registry(path: Path) -> LoadedRegistry:
    """Load one registry file; a large one through its SQLite index (built here once if missing)."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size > INDEX_ABOVE_BYTES:
        found = _find_index(path, file_sha256(path))
        if found is not None:
            return found
    raw = read_bytes(path, limit=MAX_REGISTRY_BYTES)
    try:
        registry = Registry.model_validate_json(raw)
    except ValidationError as exc:
        raise InputError(problems_from_validation(str(path), exc)) from None
    check_identity(path, registry)
    sha256 = hashlib.sha256(raw).hexdigest()
    if len(raw) > INDEX_ABOVE_BYTES:
        del raw
        return _indexed(path, sha256, build_index(registry, path, sha256))
    return LoadedRegistry(registry, path, sha256, index_entries(registry))


def check_identity(path: Path, registry: Registry) -> None:
    """A registry's keeper must keep that kind of list, and its file must be named for both."""
    problems = []
    if (mismatch := keeper_problem(registry.country, registry.kind)) is not None:
        problems.append(Problem(str(path), mismatch, pointer="/country"))
    expected = registry_file(path.parent, registry.country, registry.kind).name
    if path.name != expected:
        problems.append(Problem(str(path), f"file name must be {expected} for this country and kind", kind="invalid"))
    if problems:
        raise InputError(problems)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in pieces (a large registry is never held whole to be hashed)."""
    with open_input(path) as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def index_locations(path: Path, sha256: str) -> list[Path]:
    """Where the index of this exact registry file may be: beside it, else in the user's cache."""
    name = f".{path.stem}.{sha256[:32]}.index.sqlite"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dossier-rules"
    return [path.with_name(name), cache / name]


def _find_index(path: Path, sha256: str) -> LoadedRegistry | None:
    import sqlite3

    for location in index_locations(path, sha256):
        if location.is_file():
            try:
                return _indexed(path, sha256, location)
            except (sqlite3.Error, KeyError, ValidationError):
                continue  # damaged or not this file's: rebuilt
    return None


def _indexed(path: Path, sha256: str, location: Path) -> LoadedRegistry:
    import sqlite3

    conn = sqlite3.connect(f"{location.resolve().as_uri()}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    finally:
        conn.close()
    if meta.get("sha256") != sha256:
        raise sqlite3.DatabaseError(f"{location} indexes another file")
    header = Registry.model_validate_json(meta["header"])
    check_identity(path, header)
    return LoadedRegistry(header, path, sha256, RegistryIndex(location, int(meta["count"])))


def build_index(registry: Registry, path: Path, sha256: str) -> Path:
    """Write the SQLite index of a registry's entries (atomically), beside the file or else in the cache."""
    header = registry.model_copy(update={"entries": []}).model_dump_json()
    failure: OSError | None = None
    for location in index_locations(path, sha256):
        try:
            location.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=location.parent, prefix=location.name, suffix=".tmp")
            os.close(fd)
        except OSError as exc:
            failure = exc
            continue
        try:
            _write_index(Path(tmp), registry, sha256, header)
            os.replace(tmp, location)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for stale in location.parent.glob(f".{path.stem}.*.index.sqlite"):
            if stale != location:
                stale.unlink(missing_ok=True)
        return location
    raise OSError(f"cannot write an index for {path}: {failure}")


def _write_index(target: Path, registry: Registry, sha256: str, header: str) -> None:
    import sqlite3

    conn = sqlite3.connect(target)
    try:
        with conn:
            conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.execute("CREATE TABLE entries (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, entry TEXT NOT NULL)")
            conn.executemany("INSERT INTO entries (id, entry) VALUES (?, ?)", ((e.id, e.model_dump_json()) for e in registry.entries))
            conn.execute("CREATE INDEX entries_by_id ON entries (id, seq)")
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [("sha256", sha256), ("count", str(len(registry.entries))), ("header", header)])
    finally:
        conn.close()
    os.chmod(target, REGISTRY_FILE_MODE)


@dataclass(frozen=True)
class Registries:
    """Every registry loaded, by (country, kind)."""

    by_key: dict[tuple[str, str], LoadedRegistry]

    @classmethod
    def empty(cls) -> Registries:
        return cls({})

    def get(self, country: str, kind: str) -> LoadedRegistry | None:
        return self.by_key.get((keeper(country, kind), kind))

    def retrieved_for(self, country: str) -> dict[str, date]:
        """Kind -> the day each list a dossier of ``country`` consults was retrieved (only lists that are loaded)."""
        return {kind: loaded.registry.retrieved_on for kind in REGISTRY_KINDS if (loaded := self.get(country, kind)) is not None}

    def lists_for(self, country: str) -> dict[str, EntryIndex]:
        """Kind -> index of the lists a dossier of ``country`` consults (computed once per country)."""
        cache: dict[str, dict[str, EntryIndex]] = self.__dict__.setdefault("_lists", {})
        if country not in cache:
            cache[country] = {kind: loaded.index for kind in REGISTRY_KINDS if (loaded := self.get(country, kind)) is not None}
        return cache[country]

    def view(self, country: str, as_of: date) -> RegistryView:
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

    __slots__ = ("_as_of", "_by_name", "_listed", "_lists", "_names", "_retrieved", "_revoked")

    def __init__(self, registries: Registries, country: str, as_of: date):
        self._lists = registries.lists_for(country)
        self._retrieved = registries.retrieved_for(country)
        self._as_of = as_of
        self._listed: dict[str, frozenset[str]] = {}
        self._revoked: dict[str, frozenset[str]] = {}
        self._names: dict[str, dict[str, frozenset[str]]] = {}
        self._by_name: dict[str, dict[str, tuple[Entry, ...]]] = {}

    def available(self, kind: str) -> bool:
        return kind in self._lists

    def retrieved_on(self, kind: str) -> date | None:
        """The day the list ``kind`` was retrieved (None when it is not loaded).

        A list cannot know what happened after it was retrieved: an agency
        accredited later, or a date evaluated well after it, is beyond what it
        can prove (see the ``retrieved`` condition).
        """
        return self._retrieved.get(kind)

    def listed(self, kind: str, key: Any) -> bool:
        """Whether ``key`` (an id, or a party: an object with id and name) has an entry on the list ``kind`` on the date."""
        if isinstance(key, dict):
            return bool(self.reports(kind, key))
        ids = self._listed.get(kind)
        if ids is None:
            ids = self._listed[kind] = self._ids(kind, lambda e: e.active_on(self._as_of))
        return str(key) in ids

    def listed_on(self, kind: str, key: Any, day: date) -> bool:
        """True when an entry of ``key`` on the list ``kind`` was valid on ``day`` rather than on the evaluation date:
        what the list showed when another act took place (KH 6(1): MoLVT issued its certificate then)."""
        return any(e.active_on(day) for e in self._lists.get(kind, {}).get(str(key), ()))

    def ever_listed(self, kind: str, key: Any) -> bool:
        """True when an entry of ``key`` on the list ``kind`` was on it on or before the evaluation date, even one that
        has since ended: a number the list never carried differs from one whose listing ended (KH 5(1), 5(2))."""
        entries = self._lists.get(kind, {}).get(str(key), ())
        return any(e.listed_from is None or e.listed_from <= self._as_of for e in entries)

    def revoked(self, kind: str, key: Any) -> bool:
        ids = self._revoked.get(kind)
        if ids is None:
            ids = self._revoked[kind] = self._ids(kind, lambda e: e.revoked_by(self._as_of))
        return str(key) in ids

    def revoked_before(self, kind: str, key: Any, day: date) -> bool:
        """True when an entry of ``key`` on the list ``kind`` was revoked before ``day`` (not on it): what shows an act
        dated ``day`` to come after the revocation (KH 5(5); LA/KG/TJ 7(3))."""
        return any(e.ended_because == "revoked" and e.ended_on is not None and e.ended_on < day for e in self._lists.get(kind, {}).get(str(key), ()))

    def listed_under_other_name(self, kind: str, key: Any, name: Any) -> bool:
        """True when ``key`` is on the list ``kind`` on the date, but no entry of it there bears ``name``.

        The published lists name each accredited agency (KH 5(1); LA/KG/TJ 7(2)):
        a number listed under another name is a question for a person (a typing
        error, a renamed agency, or someone else's number). Names are compared
        as :func:`comparable_name` makes them, so case, punctuation, width and
        the legal form's abbreviation do not count as a difference.
        """
        names = self._names.get(kind)
        if names is None:
            names = self._names[kind] = self._active_names(kind)
        listed = names.get(str(key))
        return listed is not None and comparable_name(str(name)) not in listed

    def reports(self, kind: str, party: dict[str, Any]) -> tuple[Entry, ...]:
        """The entries of the list ``kind`` about ``party`` on the date, oldest first.

        A party is matched as ``among`` matches parties: by its identifiers
        (:func:`party_keys`: its id, which is the broker's stable ``broker_id``,
        and its accreditation or registration number) when it has any, else by
        its name compared as :func:`comparable_name` makes it. So a party the
        dossier names by id is never matched by a namesake.
        """
        keys = party_keys(party)
        found: Iterable[Entry]
        if keys:
            index = self._lists.get(kind, {})
            found = {(e.id, e.listed_from): e for key in keys for e in index.get(key, ())}.values()
        elif party.get("name"):
            names = self._by_name.get(kind)
            if names is None:
                names = self._by_name[kind] = self._entries_by_name(kind)
            found = names.get(comparable_name(str(party["name"])), ())
        else:
            return ()
        return tuple(sorted((e for e in found if e.active_on(self._as_of)), key=lambda e: (e.listed_from or date.min, e.id)))

    def _entries_by_name(self, kind: str) -> dict[str, tuple[Entry, ...]]:
        out: dict[str, list[Entry]] = {}
        for _key, entries in self._lists.get(kind, {}).items():
            for e in entries:
                out.setdefault(comparable_name(e.name), []).append(e)
        return {k: tuple(v) for k, v in out.items()}

    def _active_names(self, kind: str) -> dict[str, frozenset[str]]:
        """For each id of the list ``kind`` listed on the date, the comparable names its entries give it."""
        out: dict[str, frozenset[str]] = {}
        for key, entries in self._lists.get(kind, {}).items():
            active = frozenset(comparable_name(e.name) for e in entries if e.active_on(self._as_of))
            if active:
                out[key] = active
        return out

    def _ids(self, kind: str, holds: Any) -> frozenset[str]:
        """The ids of the list ``kind`` with an entry for which ``holds`` is true (none when the list is not loaded)."""
        index = self._lists.get(kind, {})
        return frozenset(key for key, entries in index.items() if any(holds(e) for e in entries))


def party_keys(party: dict[str, Any]) -> tuple[str, ...]:
    """A party's identifiers a list may name it by: its id (a broker's stable ``broker_id``) and its accreditation number."""
    accreditation = party.get("accreditation")
    number = accreditation.get("number") if isinstance(accreditation, dict) else None
    return tuple(dict.fromkeys(str(v) for v in (party.get("id"), party.get("broker_id"), number) if v))


LEGAL_FORMS = frozenset({"co", "company", "corp", "corporation", "inc", "incorporated", "limited", "llc", "ltd", "plc", "pte"})
"""Words of a legal form that lists and dossiers abbreviate or leave out ("Co., Ltd."): not a difference of name."""


@lru_cache(maxsize=4096)
def comparable_name(name: str) -> str:
    """A name as far as two spellings of the same name agree: Unicode-compatible forms (full-width letters), case,
    punctuation and spacing, and the legal-form words of :data:`LEGAL_FORMS` do not count."""
    text = unicodedata.normalize("NFKC", name).casefold()
    words = "".join(c if unicodedata.category(c)[0] in "LNM" else " " for c in text).split()
    return " ".join(w for w in words if w not in LEGAL_FORMS)


# --------------------------------------------------------------------------- import

CSV_COLUMNS = ("id", "name", "listed_from", "ended_on", "ended_because", "note")


@dataclass
class ImportResult:
    entries: list[Entry]
    rejected: list[tuple[int, dict[str, str], str]]


def csv_lines(path: Path, limit: int = MAX_REGISTRY_BYTES) -> Iterator[str]:
    """The lines of a UTF-8 CSV file (a byte order mark skipped), read as they are parsed: a list is never held twice.

    A file above ``limit`` bytes is refused before reading; text that is not
    UTF-8 raises :class:`UnicodeDecodeError` where it is met.
    """
    with open_input(path) as raw:
        if os.fstat(raw.fileno()).st_size > limit:
            raise InputError([Problem(str(path), f"larger than {limit} bytes, the limit for this input; refused", kind="too_large")])
        read = 0
        for line in io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""):
            read += len(line)
            if read > limit:  # the file grew while it was read
                raise InputError([Problem(str(path), f"larger than {limit} bytes, the limit for this input; refused", kind="too_large")])
            yield line


def parse_csv(text: str | Iterable[str], source: str) -> ImportResult:
    """Validate every row of a registry CSV (its text, or its lines as read); collect bad rows with their line numbers and reasons."""
    reader = csv.DictReader(io.StringIO(text) if isinstance(text, str) else text, strict=True)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise InputError([Problem(source, f"invalid CSV: {exc}", kind="syntax", line=reader.line_num or 1)]) from None
    missing = [c for c in ("id", "name") if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    repeated = sorted({c for c in header if header.count(c) > 1})
    if missing or unknown or repeated:
        detail = "; ".join(
            filter(
                None,
                [
                    f"missing column(s) {', '.join(missing)}" if missing else "",
                    f"unknown column(s) {', '.join(unknown)}" if unknown else "",
                    f"column(s) given twice {', '.join(repeated)} (which one is meant?)" if repeated else "",
                ],
            )
        )
        raise InputError([Problem(source, f"bad header: {detail}; expected {', '.join(CSV_COLUMNS)}", kind="schema", line=1)])
    result = ImportResult([], [])
    seen: dict[tuple[str, str | None], int] = {}
    for row in _rows(reader, source):
        line = reader.line_num
        values = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k is not None}
        if None in row:
            result.rejected.append((line, values, "more fields than columns"))
            continue
        data = {k: v for k, v in values.items() if v not in ("", None)}
        try:
            entry = Entry.model_validate(data)
        except ValidationError as exc:
            reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors(include_url=False))
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


def _rows(reader: csv.DictReader[str], source: str) -> Iterator[dict[str, Any]]:
    """The rows of a CSV; a damaged file (a quote never closed) is an error, never rows swallowed silently."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(
                [Problem(source, f"invalid CSV from line {start}: {exc} (a quote opened and never closed?); nothing imported", kind="syntax", line=start)]
            ) from None
        yield row


REGISTRY_FILE_MODE = 0o644
"""Registries are public lists: written readable by all, as the shipped ones are."""


def write_registry(registry: Registry, path: Path) -> None:
    """Write atomically: a reader never sees a half-written registry."""
    _replace(path, (json.dumps(registry.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n").encode())


def restore_registry(path: Path, before: bytes | None) -> None:
    """Put a registry file back as it was (``None``: there was none), after a change that could not be recorded whole."""
    if before is None:
        path.unlink(missing_ok=True)
    else:
        _replace(path, before)


def _replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, REGISTRY_FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
