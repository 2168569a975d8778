"""The New screening form, generated from the dossier model, and the dossier JSON read back from it.

The model stays the single source of truth: every field of
:class:`~dossier_rules.model.CandidateDossier` or
:class:`~dossier_rules.model.BrokerDossier` becomes a control (a date picker
for dates, a choice with Japanese and English labels for enumerations, a
three-way choice for yes / no / not known, a repeating group for lists of
objects), so a field added to the model appears in the form. Codes are never
typed: countries, currencies and languages are labelled choices, and a payee,
holder or perpetrator is picked from the parties entered in the form. Form
names are the JSON pointer's steps joined with dots (``fees.0.amount``), which
lets an error at ``/fees/0/amount`` be shown next to its control
(:func:`place_errors` puts an error without a control of its own next to the
nearest group or list that holds it).
"""

from __future__ import annotations

import datetime
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from .. import labels
from ..locale import N_, language, translate
from ..model import KINDS, Party, Vocabulary
from . import words

MAX_ROWS = 50
"""Rows of one repeating group the form accepts; real dossiers have a handful."""
FIXED = ("kind", "country", "schema_version")
COUNTRY_FIELDS = "country_fields"
"""Chosen before the form is shown (kind and country) or fixed by the model; not controls."""
UNKNOWN, YES, NO = N_("not known"), N_("yes"), N_("no")


@dataclass
class Control:
    """One control of the form, or a group of them."""

    name: str
    key: str
    label: str
    widget: Literal["text", "date", "number", "select", "tristate", "csv", "multi", "party", "group", "rows"]
    required: bool = False
    help: str | None = None
    value: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    children: list[Control] = field(default_factory=list)
    rows: list[list[Control]] = field(default_factory=list)
    template: list[Control] = field(default_factory=list)
    """A rows group's empty row, numbered ``__i__``: the page's script copies it to add a row in place."""
    values: list[str] = field(default_factory=list)
    """The values chosen in a multiple choice."""
    party: str | None = None
    """A party entered in the form (``sending_agency``, ``intermediaries.0``): other fields may pick it."""
    errors: list[str] = field(default_factory=list)

    @property
    def error(self) -> str | None:
        return " ".join(self.errors) or None

    @property
    def pointer(self) -> str:
        return "/" + self.name.replace(".", "/") if self.name else ""

    @property
    def dom_id(self) -> str:
        return "in-" + self.name.replace(".", "-")


def field_label(key: str) -> str:
    """The label of a field: its name in words (:func:`dossier_rules.labels.field_label`)."""
    return labels.field_label(key)


def value_label(value: str, choices: typing.Iterable[str] = ()) -> str:
    """How an enumerated value of a field with these ``choices`` reads, in the page's language (:mod:`dossier_rules.labels`)."""

    return labels.label(value, "ja" if language() == "ja" else "en", labels.enum_of(frozenset(choices)) if choices else None)


def field_names(model: type[BaseModel] | None = None) -> set[str]:
    """Every field name the form shows as a label, in words (for the message catalog; values are labelled by ``labels``)."""
    return {key.replace("_", " ") for cls in _models(model) for key in cls.model_fields}


def _models(model: type[BaseModel] | None) -> typing.Iterator[type[BaseModel]]:
    seen: set[type] = set()
    todo: list[type[BaseModel]] = [model] if model else list(KINDS.values())
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        yield cls
        for info in cls.model_fields.values():
            inner = _inner_model(info.annotation)
            if inner is not None:
                todo.append(inner)


def _args(annotation: Any) -> tuple[Any, ...]:
    """``X | None`` -> (X,); anything else -> (itself,)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return tuple(a for a in typing.get_args(annotation) if a is not type(None))
    return (annotation,)


def _base(annotation: Any) -> Any:
    """The type under Annotated and Optional."""
    (inner,) = _args(annotation)[:1] or (annotation,)
    while typing.get_origin(inner) is typing.Annotated:
        inner = typing.get_args(inner)[0]
    return inner


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    inner = _base(annotation)
    if typing.get_origin(inner) is list:
        inner = _base(typing.get_args(inner)[0])
    return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


@dataclass(frozen=True)
class Context:
    """What choices depend on: the dossier's country (listed first) and the parties entered so far (key, words)."""

    country: str = ""
    parties: tuple[tuple[str, str], ...] = ()


def controls(
    model: type[BaseModel],
    data: dict[str, Any],
    errors: dict[str, str],
    prefix: str = "",
    declared: dict[str, Any] | None = None,
    context: Context | None = None,
) -> list[Control]:
    """The controls of ``model``, filled from ``data`` (the draft) and showing ``errors`` (pointer -> message).

    ``declared`` are the country fields the chosen country's pack declares
    (``pack.dossier_fields``): they become the ``country_fields`` group, so
    only that country's extra fields appear; with none, the group is left out.
    Every coded value is a choice (countries, currencies, languages, parties), never typed.
    """
    context = context or Context()
    out = []
    for key, info in model.model_fields.items():
        if not prefix and key in FIXED:
            continue
        name = f"{prefix}{key}"
        if not prefix and key == COUNTRY_FIELDS:
            if declared:
                out.append(_country_group(declared, values if isinstance(values := data.get(key), dict) else {}, errors))
            continue
        parent = next((step for step in reversed(prefix.split(".")) if step and not step.isdigit() and step != "__i__"), "")
        control = Control(name, key, words.field_words(key, parent), "text", required=info.is_required(), help=info.description)
        value = data.get(key) if isinstance(data, dict) else None
        inner, nested = _base(info.annotation), _inner_model(info.annotation)
        vocabulary = _vocabulary(info.annotation, key)
        if typing.get_origin(inner) is list and nested is not None:
            control.widget = "rows"
            items = value if isinstance(value, list) else []
            control.rows = [
                controls(nested, item if isinstance(item, dict) else {}, errors, f"{name}.{i}.", context=context) for i, item in enumerate(items[:MAX_ROWS])
            ]
            control.template = controls(nested, {}, {}, f"{name}.__i__.", context=context)
            if key == "intermediaries":
                for index, row in enumerate(control.rows):
                    _mark_party(row, f"{name}.{index}")
                _mark_party(control.template, f"{name}.__i__")
        elif nested is Party and prefix:
            _party_pick(control, value if isinstance(value, dict) else {}, errors, context)
        elif nested is not None:
            control.widget = "group"
            control.children = controls(nested, value if isinstance(value, dict) else {}, errors, f"{name}.", context=context)
            if key == "sending_agency":
                control.party = name
                _mark_party(control.children, name)
        elif typing.get_origin(inner) is list and vocabulary:
            control.widget = "multi"
            control.values = [str(v) for v in value] if isinstance(value, list) else [] if value is None else [str(value)]
            control.choices = _coded(vocabulary, context.country, control.values)
        elif typing.get_origin(inner) is list:
            control.widget = "csv"
            control.value = ", ".join(str(v) for v in value) if isinstance(value, list) else "" if value is None else str(value)
        elif vocabulary:
            control.widget = "select"
            control.value = "" if value is None else str(value)
            control.choices = [("", translate(UNKNOWN)), *_coded(vocabulary, context.country, [control.value])]
        else:
            _scalar(control, inner, value)
        control.errors = [errors[control.pointer]] if control.pointer in errors else []
        out.append(control)
    return out


def _vocabulary(annotation: Any, key: str) -> str | None:
    """The open list of codes a field takes its values from (country, language, currency), if any."""
    if key == "currency":
        return "currency"
    inner, meta = words.unwrap(annotation)
    if typing.get_origin(inner) is list:
        inner, meta = words.unwrap(typing.get_args(inner)[0])
    return next((m.name for m in meta if isinstance(m, Vocabulary)), None)


def _coded(vocabulary: str, first: str, chosen: list[str]) -> list[tuple[str, str]]:
    """The labelled codes of a vocabulary, the dossier's country (or the currency its pack declares) first; a chosen code
    without a label kept."""
    if vocabulary == "currency":
        table = labels.currency_table()
    elif vocabulary in labels.VOCABULARIES:
        table = labels.vocabulary_table(vocabulary)
    else:
        table = labels.ENUMS[vocabulary]
    currency = labels.first_currency(first) if vocabulary == "currency" and first else None
    order = sorted(table, key=lambda code: (code != first, code != currency))
    extra = [code for code in chosen if code and code not in table]
    lang: labels.Lang = "ja" if language() == "ja" else "en"
    return [(code, table[code][0 if lang == "ja" else 1]) for code in order] + [(code, words.code_words(code, vocabulary)) for code in extra]


ROW = "_row"
"""The marker every row of a repeating group sends, so an empty row still exists while the form is being filled."""
PICK = "_pick"
"""The form name under a party field that picks a party entered elsewhere in the form."""
OTHER = "other"


def _mark_party(row: list[Control], key: str) -> None:
    """Mark a party's name field, so the page's script offers the party in every party choice as it is typed."""
    for control in row:
        if control.key == "name":
            control.party = key


def _party_pick(control: Control, value: dict[str, Any], errors: dict[str, str], context: Context) -> None:
    """A payee, holder or perpetrator: one of the parties entered in the form, or another party entered here."""
    control.widget = "party"
    entered = dict(context.parties)
    named = words.party_words(value) if value.get("name") else None
    chosen = next((k for k, said in context.parties if value.get(PICK) == k or named == said), "")
    control.value = chosen or (OTHER if any(v for k, v in value.items() if k != PICK) else "")
    control.choices = [("", translate(UNKNOWN)), *entered.items(), (OTHER, translate(N_("another party (enter below)")))]
    control.children = controls(Party, value if control.value == OTHER else {}, errors, f"{control.name}.")


def parties(draft: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The parties entered in a draft, by form key, in words (the choices of a payee, holder or perpetrator)."""
    found = []
    agency = draft.get("sending_agency")
    if isinstance(agency, dict) and agency.get("name"):
        found.append(("sending_agency", words.party_words({**agency, "role": agency.get("role") or "sending_agency"})))
    for index, item in enumerate(draft.get("intermediaries") or []):
        if isinstance(item, dict) and item.get("name"):
            found.append((f"intermediaries.{index}", words.party_words({**item, "role": item.get("role") or "intermediary"})))
    return tuple(found)


def place_errors(tree: list[Control], errors: dict[str, str]) -> list[tuple[str, str, str]]:
    """Show every error next to its field, or next to the nearest group or list that holds it; (dom id, label, message)
    of each, for the banner, whose count is then exactly what the page shows. An error no control holds is returned with no id."""
    by_pointer: dict[str, Control] = {}
    labels_of: dict[str, str] = {}
    _index(tree, by_pointer, labels_of, [])
    placed = []
    for pointer, message in errors.items():
        at = pointer
        while at and at not in by_pointer:
            at = at.rpartition("/")[0]
        if at:
            control = by_pointer[at]
            if message not in control.errors:
                control.errors.append(message)
            placed.append((control.dom_id, labels_of[at], message))
        else:
            placed.append(("", "", message))
    return placed


def _index(tree: list[Control], by_pointer: dict[str, Control], labels_of: dict[str, str], trail: list[str]) -> None:
    for control in tree:
        by_pointer[control.pointer] = control
        labels_of[control.pointer] = " › ".join([*trail, control.label])
        _index(control.children, by_pointer, labels_of, [*trail, control.label])
        for number, row in enumerate(control.rows, 1):
            _index(row, by_pointer, labels_of, [*trail, f"{control.label} {number}"])


def _country_group(declared: dict[str, Any], values: dict[str, Any], errors: dict[str, str]) -> Control:
    """The fields one country's pack declares, labelled with the pack's own titles."""

    group = Control(COUNTRY_FIELDS, COUNTRY_FIELDS, field_label(COUNTRY_FIELDS), "group")
    for name, spec in declared.items():  # in the order the pack declares them
        control = Control(f"{COUNTRY_FIELDS}.{name}", name, getattr(spec.title, language()), "text")
        inner: Any = {"bool": bool, "number": float, "date": datetime.date}.get(spec.type, str)  # a type, or a Literal of the choices
        if spec.choices:
            inner = Literal[tuple(spec.values)]
        _scalar(control, inner, values.get(name))
        if spec.choices:  # each choice by the label the pack gives it
            index = 0 if language() == "ja" else 1
            control.choices = [(value, spec.labels().get(value, (text, text))[index] if value else text) for value, text in control.choices]
        control.errors = [errors[control.pointer]] if control.pointer in errors else []
        group.children.append(control)
    return group


def _scalar(control: Control, inner: Any, value: Any) -> None:
    if typing.get_origin(inner) is Literal:
        control.widget = "select"
        values = [str(v) for v in typing.get_args(inner)]
        control.choices = [("", translate(UNKNOWN))] + [(v, value_label(v, values)) for v in values]
    elif inner is bool:
        control.widget = "tristate"
        control.choices = [("", translate(UNKNOWN)), ("true", translate(YES)), ("false", translate(NO))]
    elif inner is datetime.date:
        control.widget = "date"
    elif inner in (int, float):
        control.widget = "number"
    if isinstance(value, bool):
        control.value = "true" if value else "false"
    elif value is not None:
        control.value = str(value)


# --------------------------------------------------------------------------- reading the form back


def dossier_from_form(model: type[BaseModel], form: dict[str, str], declared: dict[str, Any] | None = None, keep_rows: bool = False) -> dict[str, Any]:
    """The dossier JSON a submitted form describes; empty controls are left out (not known, not false).

    Values are converted only where the control guarantees the form
    (numbers, yes/no); anything else goes to validation as typed, so the
    error says what is wrong with what the person entered. ``keep_rows``
    keeps a row left empty (each row sends a ``ROW`` marker), so adding a
    second row before filling the first loses neither.
    """
    tree: dict[str, Any] = {}
    for name, raw in form.items():
        value = raw.strip()
        if not value or name in ("csrf_token", "add", "remove") or name.startswith("_") or "__i__" in name:
            continue
        steps = name.split(".")
        if len(steps) > 8 or not all(s and len(s) <= 64 for s in steps):
            continue
        node = tree
        for step in steps[:-1]:
            node = node.setdefault(step, {})
            if not isinstance(node, dict):
                break
        else:
            if steps[-1] != ROW:
                node[steps[-1]] = value
    extra = tree.pop(COUNTRY_FIELDS, None)
    _resolve_picks(tree, tree)
    out = _typed(model, tree, keep_rows)
    if isinstance(extra, dict) and declared:
        out[COUNTRY_FIELDS] = {k: _declared_value(declared[k].type, v) if k in declared else v for k, v in extra.items()}
    return out


def _resolve_picks(node: Any, tree: dict[str, Any]) -> None:
    """A party picked from those entered becomes a copy of that party; "another party" keeps what was typed under it."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if isinstance(value, dict) and PICK in value:
                pick = value.pop(PICK)
                source = _entered(tree, pick)
                if source is not None:
                    node[key] = dict(source)
                elif pick != OTHER:
                    value.clear()
            _resolve_picks(node[key], tree)


def _entered(tree: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The party a pick names (``sending_agency``, ``intermediaries.0``) as the form gives it, with its role."""
    steps = key.split(".")
    node: Any = tree
    for step in steps:
        node = node.get(step) if isinstance(node, dict) else None
    if not isinstance(node, dict) or not node.get("name"):
        return None
    role = "sending_agency" if steps[0] == "sending_agency" else "intermediary"
    return {"role": role, **node}


def _declared_value(kind: str, value: Any) -> Any:
    if kind == "bool" and value in ("true", "false"):
        return value == "true"
    if kind == "number" and isinstance(value, str):
        return _number(value)
    return value


def _typed(model: type[BaseModel], tree: dict[str, Any], keep_rows: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        info = model.model_fields.get(key)
        if info is None:
            out[key] = value
            continue
        inner, nested = _base(info.annotation), _inner_model(info.annotation)
        if typing.get_origin(inner) is list and nested is not None and isinstance(value, dict):
            rows = [value[i] for i in sorted(value, key=lambda k: int(k) if k.isdigit() else MAX_ROWS) if i.isdigit()][:MAX_ROWS]
            kept = [_typed(nested, row, keep_rows) for row in rows if isinstance(row, dict) and (row or keep_rows)]
            if kept or keep_rows:
                out[key] = kept
        elif nested is not None and isinstance(value, dict):
            out[key] = _typed(nested, value, keep_rows)
        elif typing.get_origin(inner) is list and isinstance(value, str):
            out[key] = [part.strip() for part in value.replace("、", ",").split(",") if part.strip()]
        elif inner is bool and value in ("true", "false"):
            out[key] = value == "true"
        elif inner in (int, float) and isinstance(value, str):
            out[key] = _number(value)
        else:
            out[key] = value
    return out


def _number(text: str) -> Any:
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def with_row(data: dict[str, Any], name: str, add: bool) -> dict[str, Any]:
    """The draft with one more (empty) row in the group ``name``, or without the row ``name`` (``fees.1``)."""
    steps = name.split(".")
    parents, last = (steps, "") if add else (steps[:-1], steps[-1])
    node: Any = data
    for index, step in enumerate(parents):
        if isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        elif isinstance(node, dict):
            node = node.setdefault(step, [] if index == len(parents) - 1 else {})
        else:
            return data
    if isinstance(node, list) and add and len(node) < MAX_ROWS:
        node.append({})
    elif isinstance(node, list) and not add and last.isdigit() and int(last) < len(node):
        del node[int(last)]
    return data
