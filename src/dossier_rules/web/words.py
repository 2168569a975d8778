"""A dossier's values in words for staff: labels for codes, dates as dates, amounts with their currency, parties by name and role.

The result page, its download, the evidence of each finding and the comparison
of two screenings all read values through :func:`value_words`, so no JSON, JSON
pointer or escape reaches a screener. The type of each value is read from the
dossier model at its pointer (:func:`field_at`), so a field added to the model
is shown the way its type says.
"""

from __future__ import annotations

import datetime
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from babel.dates import format_date, format_datetime, get_timezone
from babel.numbers import format_decimal
from pydantic import BaseModel

from .. import labels
from ..locale import N_, language, translate
from ..model import KINDS, Party, Vocabulary

NOT_PROVIDED = N_("not provided")
MOC = N_("MOC")
PARTY_KEYS = frozenset(Party.model_fields)
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        N_("Application"),
        ("dossier_id", "submitted", "residence", "status_sought", "sector", "hire_route", "languages", "receiving_organisation_id", "support_organisation_id"),
    ),
    (N_("Identity"), ("identity",)),
    (N_("Sending agency and intermediaries"), ("sending_agency", "intermediaries", "certificate")),
    (N_("Fees"), ("fees",)),
    (N_("Tests"), ("tests",)),
    (N_("Spouse and children"), ("dependents",)),
    (N_("Contracts and incidents"), ("held_property", "contract_clauses", "incidents")),
    (N_("Documents"), ("documents",)),
    (N_("The broker"), ("name", "role", "legal_form", "based_in", "accreditation", "fee_schedule", "practices")),
    (N_("Complaints"), ("complaints",)),
    (N_("Country fields"), ("country_fields",)),
)
"""The sections the result page shows a dossier in, with the top-level fields of each (the form's sections)."""


Kind = Literal["text", "date", "bool", "number", "party", "object", "list"]


@dataclass(frozen=True)
class FieldType:
    """What the model says a value at a pointer is: the enumeration that labels it, or its scalar kind."""

    enum: str | None = None
    kind: Kind = "text"


@dataclass
class Row:
    """One line of the dossier as a screener reads it; ``depth`` indents the fields of a list item."""

    label: str
    words: str
    pointer: str
    depth: int = 0


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)


def _args(annotation: Any) -> tuple[Any, ...]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return tuple(a for a in typing.get_args(annotation) if a is not type(None))
    return (annotation,)


def unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type under Optional and Annotated, and the Annotated metadata met on the way."""
    meta: list[Any] = []
    inner = _args(annotation)[0]
    while typing.get_origin(inner) is typing.Annotated:
        inner, *more = typing.get_args(inner)
        meta.extend(more)
        inner = _args(inner)[0]
    return inner, meta


def field_at(kind: str, pointer: str) -> FieldType:
    """The type of the value at ``pointer`` of a ``kind`` dossier, read from the model (text when the model does not say)."""
    node: Any = KINDS.get(kind)
    meta: list[Any] = []
    for step in pointer.strip("/").split("/"):
        if typing.get_origin(node) is list:
            node, meta = unwrap(typing.get_args(node)[0])
            if step.isdigit():
                continue
        if not (isinstance(node, type) and issubclass(node, BaseModel)) or step not in node.model_fields:
            return FieldType()
        info = node.model_fields[step]
        node, meta = unwrap(info.annotation)
        meta = [*info.metadata, *meta]  # pydantic keeps a bare Annotated field's metadata on the field
    return _type_of(node, meta)


def _type_of(node: Any, meta: list[Any]) -> FieldType:
    if typing.get_origin(node) is list:
        item, item_meta = unwrap(typing.get_args(node)[0])
        return FieldType(_type_of(item, item_meta).enum, "list")
    vocabulary = next((m.name for m in meta if isinstance(m, Vocabulary)), None)
    if vocabulary:
        return FieldType(vocabulary)
    if typing.get_origin(node) is Literal:
        return FieldType(labels.enum_of(frozenset(str(v) for v in typing.get_args(node))))
    if node is Party:
        return FieldType(kind="party")
    if isinstance(node, type) and issubclass(node, BaseModel):
        return FieldType(kind="object")
    simple: dict[object, Kind] = {datetime.date: "date", bool: "bool", int: "number", float: "number"}
    return FieldType(kind=simple.get(node, "text"))


def _lang() -> labels.Lang:
    return "ja" if language() == "ja" else "en"


def date_words(value: Any) -> str:
    """A date as a date (2025年7月10日, 10 July 2025); what is no date, as written."""
    try:
        day = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return format_date(day, format="long", locale=_lang())


def time_words(value: Any, zone: str) -> str:
    """A stored UTC time in the office's time zone, with the zone named (2026年12月7日 2:32 JST)."""
    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return format_datetime(moment, format="long", tzinfo=get_timezone(zone), locale=_lang())


def number_words(value: Any) -> str:
    return format_decimal(value, locale=_lang()) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def code_words(value: Any, enum: str | None) -> str:
    return labels.label(str(value), _lang(), enum)


def party_words(party: dict[str, Any]) -> str:
    """A party by name and role: 「Mekong Example Recruiting（仲介機関（送出機関以外））」; its id when it has no name."""
    name = party.get("name") or party.get("id") or translate(NOT_PROVIDED)
    role = code_words(party["role"], "party_role") if party.get("role") else ""
    if not role:
        return str(name)
    return f"{name}（{role}）" if language() == "ja" else f"{name} ({role})"


def value_words(kind: str, pointer: str, value: Any) -> str:
    """Any value of the dossier in words: a code labelled, a date, an amount, a party, an object as 「項目：値」 pairs."""
    if value is None:
        return translate(NOT_PROVIDED)
    typed = field_at(kind, pointer)
    if isinstance(value, dict):
        if _is_party(kind, pointer, value):
            return party_words(value)
        return _separator().join(f"{field_words(key)}{_colon()}{value_words(kind, f'{pointer}/{key}', item)}" for key, item in value.items())
    if isinstance(value, list):
        return _separator().join(value_words(kind, f"{pointer}/{i}", item) for i, item in enumerate(value)) or translate(N_("none"))
    if isinstance(value, bool):
        return translate(N_("yes") if value else N_("no"))
    if typed.enum:
        return code_words(value, typed.enum)
    if typed.kind == "date":
        return date_words(value)
    if typed.kind == "number":
        return number_words(value)
    return str(value)


def _is_party(kind: str, pointer: str, value: dict[str, Any]) -> bool:
    """A party of the dossier (by the model), or a party's fields as evidence reads them (a rule's subject)."""
    return field_at(kind, pointer).kind == "party" or bool(value.keys() & {"name", "role"} and value.keys() <= PARTY_KEYS)


def article_words(article: str) -> str:
    """A finding's citation as staff read it: ``MOC-KH 4(1)(e)`` -> 「協力覚書 4(1)(e)」 (the country is the dossier's)."""
    number = article.split(" ", 1)[1] if article.startswith("MOC-") and " " in article else article
    return f"{translate(MOC)} {number}"


def _separator() -> str:
    return "、" if language() == "ja" else "; "


def _colon() -> str:
    return "：" if language() == "ja" else ": "


def field_words(key: str, parent: str = "") -> str:
    """A field's name in words (:func:`dossier_rules.labels.field_label`); English starts with a capital."""
    words = labels.field_label(key, None, parent)
    return words[:1].upper() + words[1:]


def pointer_words(pointer: str) -> str:
    """A JSON pointer in words: ``/fees/0/amount`` -> 「手数料等の費用 1 › 金額」 (English names start with a capital)."""
    return " › ".join(part[:1].upper() + part[1:] for part in labels.pointer_label(pointer, None).split(" › "))


def evidence_words(kind: str, evidence: dict[str, Any]) -> list[tuple[str, str, str]]:
    """A finding's evidence as (項目, 値, pointer): the amount and its currency read as one value."""
    out = []
    for pointer, value in evidence.items():
        parent = pointer.rpartition("/")[0]
        if pointer.endswith("/currency") and f"{parent}/amount" in evidence:
            continue
        words = value_words(kind, pointer, value)
        currency = evidence.get(f"{parent}/currency") if pointer.endswith("/amount") else None
        if currency and value is not None:
            words = f"{words} {currency}"
        out.append((pointer_words(pointer), words, pointer))
    return out


def sections(kind: str, dossier: dict[str, Any]) -> list[Section]:
    """The dossier as labelled sections of rows in words, in the form's order; empty sections left out."""
    placed: set[str] = set()
    out = []
    for title, keys in SECTIONS:
        section = Section(translate(title))
        for key in keys:
            if key in dossier:
                placed.add(key)
                section.rows.extend(_rows(kind, f"/{key}", key, dossier[key], 0))
        if section.rows:
            out.append(section)
    rest = [k for k in dossier if k not in placed and k not in ("kind", "country", "schema_version")]
    if rest:
        other = Section(translate(N_("Other fields")))
        for key in rest:
            other.rows.extend(_rows(kind, f"/{key}", key, dossier[key], 0))
        out.append(other)
    return out


def _rows(kind: str, pointer: str, key: str, value: Any, depth: int) -> list[Row]:
    steps = [s for s in pointer.split("/") if s and not s.isdigit()]
    label = field_words(key, steps[-2] if len(steps) > 1 else "")
    if isinstance(value, dict) and _is_party(kind, pointer, value):
        rows = [Row(label, party_words(value), pointer, depth)]
        for child in ("id", "legal_form", "country", "accreditation"):
            if value.get(child) is not None:
                rows.extend(_rows(kind, f"{pointer}/{child}", child, value[child], depth + 1))
        return rows
    if isinstance(value, dict):
        rows = [Row(label, "", pointer, depth)]
        for child, item in value.items():
            if child == "currency" and "amount" in value:
                continue
            rows.extend(_rows(kind, f"{pointer}/{child}", child, item, depth + 1))
            if child == "amount" and value.get("currency") and item is not None:
                rows[-1].words += f" {value['currency']}"
        return rows
    if isinstance(value, list) and value and isinstance(value[0], dict):
        rows = []
        for index, item in enumerate(value):
            item_rows = _rows(kind, f"{pointer}/{index}", key, item, depth)
            if item_rows:
                item_rows[0].label = f"{field_words(key)} {index + 1}"
            rows.extend(item_rows)
        return rows
    return [Row(label, value_words(kind, pointer, value), pointer, depth)]


def changed_fields(kind: str, old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What changed between two versions of a dossier, leaf by leaf: (項目, before, after), in words."""
    before, after = dict(_leaves(old)), dict(_leaves(new))
    out = []
    for pointer in sorted(before.keys() | after.keys()):
        if before.get(pointer) != after.get(pointer):
            out.append((pointer_words(pointer), value_words(kind, pointer, before.get(pointer)), value_words(kind, pointer, after.get(pointer))))
    return out


def _leaves(value: Any, pointer: str = "") -> typing.Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{pointer}/{key}")
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{pointer}/{index}")
    else:
        yield pointer, value
