"""What to tell a person whose dossier file is wrong: what, where (JSON pointer and line), and what to do.

Screening staff fix dossiers by hand, so each message names the field, shows
what was found, and says what would be accepted ("use YYYY-MM-DD", "did you
mean ..."). :mod:`dossier_rules.sources` builds its problems from these; this
module knows nothing of files or records, only of JSON text and the model.
"""

from __future__ import annotations

import bisect
import difflib
import json
import re
import typing
from json.decoder import scanstring  # type: ignore[attr-defined]  # public in CPython, absent from typeshed
from typing import Any

from pydantic import BaseModel

from .locale import N_, _

MAX_SHOWN = 120
"""Characters of an offending value repeated in a message; the rest is elided, the file has it."""

_BOMS = {b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16", b"\xef\xbb\xbf": "UTF-8"}
_TRY_ENCODINGS = ("shift_jis", "cp932", "euc_jp", "utf_16")
_PATTERN_HINTS = {
    r"^[A-Z]{2}$": N_("use a two-letter country code in capitals, e.g. JP or PH (got {value})"),
    r"^[A-Z]{3}$": N_("use a three-letter currency code in capitals, e.g. USD or JPY (got {value})"),
    r"^[a-z]{2,3}$": N_("use a language code in lower case, e.g. km, lo or ja (got {value})"),
}


def shown(value: Any) -> str:
    """``value`` as JSON, shortened to :data:`MAX_SHOWN` characters."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def encoding_message(raw: bytes) -> str | None:
    """Why ``raw`` is not UTF-8 text and what it seems to be instead; ``None`` when it is UTF-8."""
    try:
        raw.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    guess = next((name for mark, name in _BOMS.items() if raw.startswith(mark)), None)
    if guess is None:
        for encoding in _TRY_ENCODINGS[:3]:
            try:
                raw.decode(encoding)
                guess = "Shift_JIS" if encoding in ("shift_jis", "cp932") else "EUC-JP"
                break
            except UnicodeDecodeError:
                continue
    if guess:
        return _("the file is not UTF-8 text; it looks like {encoding}. Save it as UTF-8 and try again", encoding=guess)
    return _("the file is not UTF-8 text. Save it as UTF-8 and try again")


def suggestion(word: str, choices: typing.Iterable[str]) -> str | None:
    """The choice closest to a misspelled ``word``, if one is close enough to be meant."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


MAX_LOCATED = 20_000
"""JSON values located (given a line) in an invalid dossier; past it, problems take the line of a located parent.

A dossier within the model's limits has a few hundred values; the cap bounds
the work of explaining a hostile one (80,000 unknown keys) to one pass over
that many values, however large the file.
"""


def pointer_lines(text: str, limit: int = MAX_LOCATED) -> dict[str, int]:
    """Line (1-based) of the first ``limit`` JSON pointers of ``text``; an object member is located at its key.

    Lines come from one index of the newlines, searched by bisection, so the
    work is linear in the text and in the values located (counting newlines
    from the start for every value made a 1 MB dossier take half a minute).
    On text that is not JSON, it returns what it found so far.
    """
    walker = _Walker(text, limit)
    try:
        walker.walk(walker.skip(0), "")
    except (ValueError, IndexError, _Enough):
        pass
    return walker.lines


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WS = re.compile(r"[ \t\r\n]*")


class _Enough(Exception):
    """Raised when :data:`MAX_LOCATED` values are located: the rest of the text is not read."""


class _Walker:
    """One pass over a JSON text, recording the line of each pointer until ``limit`` are recorded."""

    def __init__(self, text: str, limit: int) -> None:
        self.text = text
        self.limit = limit
        self.newlines = [match.start() for match in re.finditer("\n", text)]
        self.lines: dict[str, int] = {}

    def line(self, i: int) -> int:
        return bisect.bisect_left(self.newlines, i) + 1

    def record(self, here: str, i: int, replace: bool) -> None:
        if len(self.lines) >= self.limit:
            raise _Enough()
        if replace or here not in self.lines:
            self.lines[here] = self.line(i)

    def skip(self, i: int) -> int:
        match = _WS.match(self.text, i)
        return match.end() if match else i

    def walk(self, i: int, here: str) -> int:
        """Parse the value at ``i``, recording lines under pointer ``here``; return the index after it."""
        text = self.text
        self.record(here, i, replace=False)
        char = text[i]
        if char == "{":
            i = self.skip(i + 1)
            while text[i] != "}":
                key, i = scanstring(text, i + 1)
                child = here + "/" + key.replace("~", "~0").replace("/", "~1")
                self.record(child, i, replace=True)
                i = self.skip(self.skip(i) + 1)  # past ':'
                i = self.skip(self.walk(i, child))
                if text[i] == ",":
                    i = self.skip(i + 1)
            return i + 1
        if char == "[":
            i, index = self.skip(i + 1), 0
            while text[i] != "]":
                i = self.skip(self.walk(i, f"{here}/{index}"))
                index += 1
                if text[i] == ",":
                    i = self.skip(i + 1)
            return i + 1
        return _scalar_end(text, i)


def _scalar_end(text: str, i: int) -> int:
    """The index after the string, literal or number at ``i``."""
    if text[i] == '"':
        end: int = scanstring(text, i + 1)[1]
        return end
    for literal in ("true", "false", "null"):
        if text.startswith(literal, i):
            return i + len(literal)
    match = _NUMBER.match(text, i)
    if not match:
        raise ValueError(f"unexpected {text[i]!r}")
    return match.end()


def model_at(model: type[BaseModel], loc: typing.Sequence[Any]) -> type[BaseModel] | None:
    """The model class that describes the object at ``loc`` inside ``model``, if the path leads to one."""
    current: Any = model
    for step in loc:
        if isinstance(step, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or step not in current.model_fields:
            return None
        current = _object_type(current.model_fields[step].annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _object_type(annotation: Any) -> Any:
    """The model inside ``X | None`` or ``list[X] | None``, else the annotation itself."""
    for arg in typing.get_args(annotation) or (annotation,):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        inner = _object_type(arg) if typing.get_args(arg) else None
        if inner is not None and isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner
    return annotation


def unknown_field(name: str, allowed: typing.Iterable[str]) -> str:
    """An unknown member: the field it probably meant, or the fields that are accepted there."""
    allowed = sorted(allowed)
    close = suggestion(name, allowed)
    if close:
        return _('unknown field "{name}"; did you mean "{suggestion}"?', name=name, suggestion=close)
    return _('unknown field "{name}"; accepted here: {fields}', name=name, fields=", ".join(allowed))


def pydantic_message(err: typing.Mapping[str, Any], allowed: typing.Iterable[str] = ()) -> str:
    """One pydantic error in plain words, with what to do about it."""
    etype, value = err["type"], err.get("input")
    ctx = err.get("ctx") or {}
    if etype == "missing":
        return _('required field "{name}" is missing', name=err["loc"][-1])
    if etype == "extra_forbidden":
        return unknown_field(str(err["loc"][-1]), allowed)
    if etype.startswith("date"):
        return _("not a date: use YYYY-MM-DD, e.g. 2025-06-01 (got {value})", value=shown(value))
    if etype == "literal_error":
        choices = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        return choice_message(value, choices)
    if etype.startswith("bool"):
        return _("use true or false, without quotes (got {value})", value=shown(value))
    if etype in ("float_parsing", "float_type", "int_parsing", "int_type"):
        return _("use a number, without quotes (got {value})", value=shown(value))
    if etype == "greater_than_equal":
        return _("must be {limit} or more (got {value})", limit=f"{ctx.get('ge', 0):g}", value=shown(value))
    if etype == "string_type":
        return _("use text in double quotes (got {value})", value=shown(value))
    if etype == "string_too_short":
        return _("must not be empty")
    if etype == "string_too_long":
        return _("is longer than {limit} characters", limit=ctx.get("max_length"))
    if etype == "string_pattern_mismatch":
        return pattern_message(ctx.get("pattern", ""), value)
    if etype == "list_type":
        return _("use a list in square brackets [ ] (got {value})", value=shown(value))
    if etype in ("model_type", "dict_type", "model_attributes_type"):
        return _("use an object in braces {{ }} (got {value})", value=shown(value))
    return _("{problem} (got {value})", problem=err["msg"], value=shown(value))


def choice_message(value: Any, choices: typing.Sequence[str]) -> str:
    """A value outside an enumeration: the one probably meant, else all that are accepted."""
    close = suggestion(value, choices) if isinstance(value, str) else None
    if close and len(choices) > 3:
        return _('{value} is not an accepted value; did you mean "{suggestion}"?', value=shown(value), suggestion=close)
    return _("{value} is not an accepted value; use one of: {choices}", value=shown(value), choices=", ".join(choices))


def pattern_message(pattern: str, value: Any) -> str:
    hint = _PATTERN_HINTS.get(pattern)
    if hint:
        return _(hint, value=shown(value))
    return _("use letters, digits and . _ : / - only, starting with a letter or digit (got {value})", value=shown(value))
