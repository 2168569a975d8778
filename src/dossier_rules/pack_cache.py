"""The compiled-pack cache: packs as loaded, checked and compiled, reused while nothing they depend on changed.

Loading the packs (YAML, the pack schema, checking every condition) and
generating and compiling their code is most of what a ``check`` of one
dossier would otherwise spend before screening it. The result depends only
on the pack files and on this program, so it is kept under the user's cache
directory (``$DOSSIER_RULES_CACHE``, else ``$XDG_CACHE_HOME/dossier-rules``,
else ``~/.cache/dossier-rules``; ``DOSSIER_RULES_CACHE=off`` turns it off),
in one file per key:

* the **key** is the SHA-256 of the pack directory (as given and resolved),
  of every pack file's bytes, of this package's modules and of the Python
  version, so an edited pack, another checkout or an upgrade never reuses an
  entry;
* the file starts with a header naming its key and the SHA-256 of the rest;
  an entry whose key is not the expected one, whose content does not hash to
  its header, that is larger than :data:`MAX_BYTES` or that cannot be read
  is ignored and rebuilt. Only then is it unpickled.

Besides the packs and their compiled code, an entry holds the dossier kinds'
JSON Schemas as the model generates them (plain data; see
:func:`dossier_rules.sources.dossier_schemas`): generating them costs more
than screening a dossier, and they depend only on this program and pydantic's
version, both in the key.

Registry look-ups are not compiled into the generated code (it calls the
registry view of the dossier's country and date), so registries are loaded
on every run and are not part of the key.

The directory is created readable by its owner only; entries are written to
a temporary file and renamed, so a reader never sees half an entry. At most
:data:`MAX_ENTRIES` entries are kept (the oldest go first). When the
directory cannot be written, packs are loaded as if there were no cache.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import pickle
import sys
import tempfile
from functools import cache
from pathlib import Path
from types import CodeType

import pydantic.version

from . import codegen, sources
from .packs import PackSet, load_packs, pack_files

CACHE_ENV = "DOSSIER_RULES_CACHE"
MAGIC = b"dossier-rules compiled packs\n"
MAX_BYTES = 64 * 1024 * 1024
"""Entries above this are not read (the shipped packs take well under 1 MiB)."""
MAX_ENTRIES = 16
"""Entries kept in the cache directory; writing one more removes the oldest."""


def cache_dir() -> Path | None:
    """Where entries live, or ``None`` when the cache is turned off."""
    configured = os.environ.get(CACHE_ENV)
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "dossier-rules"


@cache
def program_digest() -> str:
    """SHA-256 of this package's modules, the Python and pydantic versions: a new program never reads an old entry."""
    versions = (sys.version, pydantic.version.VERSION, codegen.CODEGEN_VERSION)
    digest = hashlib.sha256("\0".join(versions).encode())
    package = Path(__file__).resolve().parent
    for module in sorted(package.rglob("*.py")):
        digest.update(str(module.relative_to(package)).encode() + b"\0" + module.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_key(directory: Path, files: list[Path]) -> str:
    digest = hashlib.sha256(program_digest().encode())
    digest.update(f"\0{directory}\0{directory.resolve()}".encode())
    for path in files:
        digest.update(b"\0" + path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def load_packs_cached(directory: Path) -> PackSet:
    """:func:`dossier_rules.packs.load_packs`, from the cache when an entry for exactly these packs exists.

    Packs that fail to load are never cached: their errors are raised as usual.
    """
    root = cache_dir()
    files = pack_files(directory) if directory.is_dir() else []
    if root is None or not files:
        return load_packs(directory)
    key = cache_key(directory, files)
    entry = root / f"packs-{key[:40]}.bin"
    found = read_entry(entry, key)
    if found is not None:
        return found
    packset = load_packs(directory)
    write_entry(root, entry, key, packset)
    return packset


def read_entry(entry: Path, key: str) -> PackSet | None:
    """The pack set of a valid entry for ``key`` (its compiled code handed to :mod:`codegen`, its schemas to :mod:`sources`), else ``None``."""
    try:
        if entry.stat().st_size > MAX_BYTES:
            return None
        blob = entry.read_bytes()
    except OSError:
        return None
    header = len(MAGIC) + 2 * 65
    if not blob.startswith(MAGIC) or len(blob) < header:
        return None
    stored_key, stored_hash = blob[len(MAGIC) : header].split(b"\n")[:2]
    payload = blob[header:]
    if stored_key.decode("ascii", "replace") != key or hashlib.sha256(payload).hexdigest() != stored_hash.decode("ascii", "replace"):
        return None
    try:
        packset, compiled, schemas = pickle.loads(payload)
        codes = marshal.loads(compiled)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, KeyError, TypeError, ValueError):
        return None  # written by this program (the key says so) yet unreadable: rebuilt
    if not isinstance(packset, PackSet) or not isinstance(codes, dict) or not all(isinstance(c, CodeType) for c in codes.values()):
        return None
    if not isinstance(schemas, dict) or not all(isinstance(s, dict) for s in schemas.values()):
        return None
    codegen.remember(codes)
    sources.remember_dossier_schemas(schemas)
    return packset


def write_entry(root: Path, entry: Path, key: str, packset: PackSet) -> None:
    """Store the pack set, its compiled code and the dossier schemas; any failure to write only means no cache this time."""
    codes: dict[str, CodeType] = {}
    for pack in packset.packs.values():
        try:
            codes[codegen.pack_key(pack)] = codegen.code_for(pack)
        except codegen.Unsupported:
            continue  # that pack is interpreted; nothing to store
    payload = pickle.dumps((packset, marshal.dumps(codes), sources.dossier_schemas()), protocol=pickle.HIGHEST_PROTOCOL)
    blob = MAGIC + key.encode() + b"\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=root, prefix=".packs-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            os.replace(temp, entry)
        finally:
            Path(temp).unlink(missing_ok=True)
        _prune(root)
    except OSError:
        return


def _prune(root: Path) -> None:
    entries = sorted(root.glob("packs-*.bin"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[MAX_ENTRIES:]:
        old.unlink(missing_ok=True)
