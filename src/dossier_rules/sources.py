"""Reading inputs: files read safely and bounded, JSON dossiers checked with JSON pointers.

Every problem with an input becomes a :class:`~dossier_rules.problems.Problem` that names the file and
the place (line or JSON pointer) and says what was expected, so a user can fix
it without reading code, and a run over many files can record it and go on.
"""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

import jsonschema_rs
import orjson
from pydantic import ValidationError

from . import input_errors
from .locale import _
from .model import DOSSIER_ADAPTER, KINDS, MAX_LIST_ITEMS, BrokerDossier, CandidateDossier
from .problems import MAX_PROBLEMS, InputError, Problem, capped

MAX_DOSSIER_BYTES = 4 * 1024 * 1024
"""Above this a dossier file is refused: real dossiers are a few kilobytes."""

MAX_DOSSIER_DEPTH = 32
"""Levels of nesting a dossier may have (objects and lists); the model's deepest value is 4 levels down."""

MAX_QUOTED = 80
"""Characters of a bad value quoted in a message: enough to recognise it, never a whole document."""


# --------------------------------------------------------------------------- files


def open_input(path: Path, streams: bool = False) -> io.BufferedReader:
    """Open a file for reading without blocking on it; a device, socket (or FIFO unless ``streams``) is refused.

    Opening a FIFO blocks until someone writes to it, and a device such as
    ``/dev/zero`` never ends: neither is a dossier. A FIFO is accepted only
    where a stream of records is expected (``streams``), like standard input.
    """
    source = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError([Problem(source, "file not found", kind="not_found")]) from None
    except IsADirectoryError:
        raise InputError([Problem(source, "is a directory, expected a file", kind="not_found")]) from None
    except OSError as exc:
        raise InputError([Problem(source, f"cannot read file: {exc.strerror}", kind="unreadable")]) from None
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode) or (streams and stat.S_ISFIFO(mode)):
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    os.close(fd)
    if stat.S_ISDIR(mode):
        raise InputError([Problem(source, "is a directory, expected a file", kind="not_found")])
    raise InputError([Problem(source, "is not a regular file (a device, FIFO or socket); not read", kind="not_regular")])


def read_bytes(path: Path, limit: int = MAX_DOSSIER_BYTES) -> bytes:
    """Read a regular file, at most ``limit`` bytes; OS errors, other file types and oversize files become problems.

    The limit applies to the bytes read, not to what ``stat`` says (a device or
    a growing file would lie).
    """
    with open_input(path) as handle:
        try:
            return read_stream(handle, str(path), limit)
        except OSError as exc:
            raise InputError([Problem(str(path), f"cannot read file: {exc.strerror}", kind="unreadable")]) from None


def read_stream(stream: BinaryIO, source: str, limit: int = MAX_DOSSIER_BYTES) -> bytes:
    """All of a stream (a file, standard input), at most ``limit`` bytes."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputError([Problem(source, f"larger than {limit} bytes, the limit for this input; refused", kind="too_large")])
    return data


def excerpt(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` cut to ``limit`` characters: messages never echo a whole document."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(value: Any) -> str:
    """A bad value as quoted in a message: its ``repr``, cut to :data:`MAX_QUOTED` characters."""
    return excerpt(repr(value))


def pointer(loc: Iterable[Any]) -> str:
    """JSON pointer (RFC 6901) of a location given as keys and indices."""
    return "".join("/" + str(step).replace("~", "~0").replace("/", "~1") for step in loc)


def problems_from_validation(
    source: str, exc: ValidationError, line: int | None = None, lines: dict[str, int] | None = None, model: Any = None, limit: int | None = MAX_PROBLEMS
) -> list[Problem]:
    """Turn pydantic errors into problems with JSON pointers, in words that say what to do.

    The discriminated union puts the kind's tag first in every location;
    it is not part of the document, so it is dropped from the pointer.
    ``lines`` (pointer -> line in the file) places each problem on its line;
    ``model`` lets an unknown field be matched against the fields accepted there;
    beyond ``limit`` problems, one more counts the rest.
    """
    problems = []
    for err in exc.errors(include_url=False)[:limit]:
        loc = list(err["loc"])
        if loc and loc[0] in KINDS:
            model = KINDS[loc[0]]
            loc = loc[1:]
        etype = err["type"]
        if etype == "json_invalid":
            problems.append(Problem(source, _("invalid JSON: {error}", error=err["ctx"].get("error", err["msg"])), kind="syntax", line=line))
            continue
        if etype in ("union_tag_not_found", "union_tag_invalid"):
            problems.append(Problem(source, _kind_message(err.get("input")), kind="schema", pointer="/kind", line=_line(lines, "/kind", line)))
            continue
        parent = input_errors.model_at(model, loc[:-1]) if model is not None else None
        allowed = parent.model_fields if parent is not None else ()
        at = pointer(loc)
        problems.append(Problem(source, input_errors.pydantic_message(err, allowed), kind="schema", pointer=at, line=_line(lines, at, line)))
    if limit is not None and exc.error_count() > limit:
        problems.append(Problem(source, f"{exc.error_count() - limit} more problem(s) not listed; fix the ones above first", kind="truncated", line=line))
    return problems


def _kind_message(data: Any) -> str:
    if not isinstance(data, dict) or "kind" not in data:
        return _('required field "kind" is missing; use one of: {choices}', choices=", ".join(sorted(KINDS)))
    return input_errors.choice_message(data["kind"], sorted(KINDS))


def _line(lines: dict[str, int] | None, at: str, default: int | None) -> int | None:
    """The line of pointer ``at`` (or of its nearest present parent), else ``default``."""
    if not lines:
        return default
    while at and at not in lines:
        at = at.rpartition("/")[0]
    return lines.get(at, default)


def parse_dossier(raw: bytes | str, source: str, line: int | None = None) -> CandidateDossier | BrokerDossier:
    """Parse and validate one dossier into the typed model (for API callers; screening uses :func:`load_dossier`)."""
    return DOSSIER_ADAPTER.validate_python(load_dossier(raw, source, line))


def read_dossier(path: Path) -> CandidateDossier | BrokerDossier:
    """Read and validate one dossier file into the typed model."""
    return parse_dossier(read_bytes(path), str(path))


Data = dict[str, Any]


_DOSSIER_SCHEMAS: dict[str, dict[str, Any]] = {}
"""Each dossier kind's JSON Schema as the model generates it; filled by :func:`dossier_schemas` or the compiled-pack cache."""


def dossier_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each dossier kind, generated from the model once per process.

    Generating them costs more than screening a dossier, so the compiled-pack
    cache keeps them (its key covers this program and pydantic's version) and
    hands them back through :func:`remember_dossier_schemas`.
    """
    if not _DOSSIER_SCHEMAS:
        _DOSSIER_SCHEMAS.update({kind: model.model_json_schema() for kind, model in KINDS.items()})
    return _DOSSIER_SCHEMAS


def remember_dossier_schemas(schemas: dict[str, dict[str, Any]]) -> None:
    """The schemas :func:`dossier_schemas` would generate, read from the compiled-pack cache, which checked them."""
    if set(schemas) == set(KINDS):
        _DOSSIER_SCHEMAS.update(schemas)


@cache
def _schema_validators() -> dict[str, Any]:
    """One compiled JSON Schema validator per dossier kind, from the schemas the model generates.

    The published JSON Schema is what decides whether a dossier is valid:
    it is checked in Rust (jsonschema-rs) on the parsed JSON, without building
    model objects, which is what lets batch screening keep pace with parsing.
    """
    return {kind: jsonschema_rs.validator_for(schema, validate_formats=True) for kind, schema in dossier_schemas().items()}


def load_dossier(raw: bytes | str, source: str, line: int | None = None) -> Data:
    """Parse one dossier and check it against the dossier schema; its JSON data, or :class:`InputError`."""
    if not raw.strip():
        raise InputError([Problem(source, "file is empty; expected a JSON dossier", kind="empty", line=line)])
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        data = _reread(raw, exc, source, line)
    encoded = raw if isinstance(raw, bytes) else raw.encode()
    if not _no_duplicates(encoded, data):  # only then is the document parsed again, recursively: refuse what is too deep first
        _refuse_deep(data, source, line)
    duplicate = duplicate_key(encoded, data)
    if duplicate is not None:
        message = f"key {quote(duplicate)} appears twice in one object; each key may appear once (which value was meant?)"
        raise InputError([Problem(source, message, kind="syntax", line=line)])
    return check_dossier_data(data, source, line, raw)


def _reread(raw: bytes | str, exc: orjson.JSONDecodeError, source: str, line: int | None) -> Any:
    """After a failed parse: accept a UTF-8 byte order mark, name a wrong encoding, else say where the JSON breaks."""
    if isinstance(raw, bytes):
        if raw.startswith(b"\xef\xbb\xbf"):
            try:
                return orjson.loads(raw[3:])
            except orjson.JSONDecodeError as inner:
                exc = inner
        elif (wrong := input_errors.encoding_message(raw)) is not None:
            raise InputError([Problem(source, wrong, kind="encoding", line=line)]) from None
    message = _("invalid JSON: {error} at line {line} column {column}", error=exc.msg, line=exc.lineno, column=exc.colno)
    raise InputError([Problem(source, message, kind="syntax", line=line)]) from None


def _refuse_deep(data: Any, source: str, line: int | None) -> None:
    """Refuse a dossier nested deeper than :data:`MAX_DOSSIER_DEPTH`, found without recursion.

    Explaining what is wrong walks the document recursively (the model, the
    schema, the line index, the search for a repeated key); nesting no dossier
    has would exhaust their recursion limits and end as an internal error
    instead of a message. A valid dossier never gets here: the schema refuses
    such nesting, and the check costs a third of reading a record.
    """
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DOSSIER_DEPTH:
            message = _("nested more than {limit} levels deep; no part of a dossier nests that deep", limit=MAX_DOSSIER_DEPTH)
            raise InputError([Problem(source, message, kind="too_large", line=line)])
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def duplicate_key(raw: bytes, data: Any) -> str | None:
    """The first key repeated within one object of ``raw``, or ``None``.

    JSON parsers keep the last of two equal keys silently. Most records are
    cleared by :func:`_no_duplicates`, two byte counts in C; only the others
    are parsed again, keeping every key, to name the one repeated.
    """
    if _no_duplicates(raw, data):
        return None
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _value in items:
            if key in seen and not found:
                found.append(key)
            seen.add(key)
        return {}

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return "(not identified)"
    return found[0] if found else None


def _no_duplicates(raw: bytes, data: Any) -> bool:
    """Whether ``data``, parsed from ``raw``, provably kept every member of it; per record, so counted in C.

    Outside strings every colon of a JSON text ends a key, one per member. ``data``
    written back (orjson: no colon escaped) has one colon per member it kept plus
    the colons inside its strings. When ``raw`` escapes no colon (``\\u003a``), its
    strings hold no more colons than those of ``data`` unless members were
    dropped, and then it also has more key colons: equal counts mean no key was
    repeated. Anything else (an escaped colon, a document orjson cannot write
    back, fewer colons written back) is left to the exact check.
    """
    if b"\\" in raw and (b"\\u003a" in raw or b"\\u003A" in raw):  # one memchr clears most records
        return False
    try:
        again = orjson.dumps(data)
    except orjson.JSONEncodeError:  # nested deeper than orjson writes
        return False
    return again.count(b":") == raw.count(b":")


def check_dossier_data(data: Any, source: str, line: int | None = None, raw: bytes | str | None = None) -> Data:
    """Check already-parsed dossier data (a JSON document, or a pack test case) against the schema.

    ``raw``, the text it was parsed from, lets problems in a file name their line.
    """
    kind = data.get("kind") if isinstance(data, dict) else None
    validator = _schema_validators().get(kind) if isinstance(kind, str) else None
    if validator is not None and isinstance(data, dict) and validator.is_valid(data):
        return data
    _refuse_deep(data, source, line)
    oversized = capped(_oversized(data, source, line), source, line)
    if oversized:  # explaining each of 80,000 unknown keys would cost more than the run: say what is too big, unlocated
        raise InputError(oversized)
    lines = None
    if raw is not None and line is None:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        lines = input_errors.pointer_lines(text.removeprefix("\ufeff"))
    raise InputError(_explain(data, validator, source, line, lines))


def without_nulls(value: Any) -> Any:
    """JSON with ``null`` members dropped, at every depth: where an unknown value must read as absent."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def _explain(data: Any, validator: Any, source: str, line: int | None, lines: dict[str, int] | None = None) -> list[Problem]:
    """Why a dossier is invalid, each problem at its JSON pointer (and line, when known).

    The model's messages read best, so they come first; where the model is
    more lenient than the schema (it would coerce ``"yes"`` to a boolean, say),
    the schema validator's own errors say what it refused. A wrong or missing
    ``kind`` does not hide the rest: the dossier is also checked as the kind
    its fields suggest.
    """
    problems: list[Problem] = []
    unlisted = 0
    if isinstance(data, dict) and not (isinstance(data.get("kind"), str) and data["kind"] in KINDS):
        problems.append(Problem(source, _kind_message(data), kind="schema", pointer="/kind", line=_line(lines, "/kind", line)))
        data = {**data, "kind": _likely_kind(data)}
        validator = _schema_validators()[data["kind"]]
    try:
        DOSSIER_ADAPTER.validate_python(data)
    except ValidationError as exc:
        # explained up to the cap only (each costs a "did you mean" search); capped below with the schema's, the rest counted
        examined = problems_from_validation(source, exc, line, lines, limit=MAX_PROBLEMS + 1)
        problems += [p for p in examined if p.kind != "truncated"]
        unlisted = max(0, exc.error_count() - (MAX_PROBLEMS + 1))
    if validator is not None and len(problems) <= MAX_PROBLEMS:
        seen = {p.pointer for p in problems}
        for error in (leaf for top in validator.iter_errors(data) for leaf in _closest(top)):
            if len(problems) > MAX_PROBLEMS:
                break
            at = pointer(error.instance_path)
            if at not in seen and (message := _coerced_message(error, bool(problems))) is not None:
                problems.append(Problem(source, excerpt(message, 4 * MAX_QUOTED), kind="schema", pointer=at, line=_line(lines, at, line)))
    problems = sorted(problems, key=lambda p: p.line or 0) if lines else problems
    return capped(problems, source, line, unlisted)


def _oversized(value: Any, source: str, line: int | None, at: str = "") -> Iterator[Problem]:
    """Lists longer than the schema allows and objects with more members than any in the model, at every depth."""
    if isinstance(value, dict):
        if len(value) > MAX_LIST_ITEMS:
            yield Problem(
                source, f"object has {len(value)} members; no object of a dossier has more than {MAX_LIST_ITEMS}", kind="schema", pointer=at, line=line
            )
            return
        for key, item in value.items():
            yield from _oversized(item, source, line, f"{at}/{pointer([key])[1:]}")
    elif isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            yield Problem(source, f"list has {len(value)} items; at most {MAX_LIST_ITEMS} are allowed", kind="schema", pointer=at, line=line)
            return
        for index, item in enumerate(value):
            yield from _oversized(item, source, line, f"{at}/{index}")


def _likely_kind(data: dict[str, Any]) -> str:
    """The kind whose fields the dossier's top-level keys match best."""
    return max(sorted(KINDS), key=lambda kind: len(KINDS[kind].model_fields.keys() & data.keys()))


def _coerced_message(error: Any, model_failed: bool) -> str | None:
    """A JSON Schema error where the model coerces what the schema refuses ("yes" for true), in the model's words.

    Other schema errors repeat what the model said already, so they are
    reported only when the model found nothing (``model_failed`` false).
    """
    kind, value = error.kind, error.instance
    if getattr(kind, "format", None) == "date":
        return input_errors.pydantic_message({"type": "date_parsing", "input": value, "loc": ()})
    types = str(getattr(kind, "types", ""))
    if "boolean" in types:
        return input_errors.pydantic_message({"type": "bool_type", "input": value, "loc": ()})
    if "number" in types or "integer" in types:
        return input_errors.pydantic_message({"type": "float_type", "input": value, "loc": ()})
    if "string" in types:
        return input_errors.pydantic_message({"type": "string_type", "input": value, "loc": ()})
    return None if model_failed else str(error.message)


def _closest(error: Any) -> list[Any]:
    """For anyOf/oneOf, every error of the alternative that got furthest into the document."""
    context = getattr(error.kind, "context", None)
    if not context:
        return [error]
    best = max(context, key=lambda branch: max(((len(e.instance_path), type(e.kind).__name__ != "Type") for e in branch), default=(0, False)))
    return [leaf for e in best for leaf in _closest(e)]
