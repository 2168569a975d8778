"""The New screening form, generated from the dossier model, and the dossier JSON read back from it.

The model stays the single source of truth: every field of
:class:`~dossier_rules.model.CandidateDossier` or
:class:`~dossier_rules.model.BrokerDossier` becomes a control (a date picker
for dates, a choice with Japanese and English labels for enumerations, a
three-way choice for yes / no / not known, a repeating group for lists of
objects), so a field added to the model appears in the form. Form names are
the JSON pointer's steps joined with dots (``fees.0.amount``), which lets an
error at ``/fees/0/amount`` be shown next to its control.
"""

from __future__ import annotations

import datetime
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from .. import labels
from ..locale import N_, translate
from ..model import KINDS

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
    widget: Literal["text", "date", "number", "select", "tristate", "csv", "group", "rows"]
    required: bool = False
    help: str | None = None
    value: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    children: list[Control] = field(default_factory=list)
    rows: list[list[Control]] = field(default_factory=list)
    error: str | None = None

    @property
    def pointer(self) -> str:
        return "/" + self.name.replace(".", "/") if self.name else ""

    @property
    def dom_id(self) -> str:
        return "in-" + self.name.replace(".", "-")


def field_label(key: str) -> str:
    """The label of a field: its name in words, through the catalog (``date_of_birth`` -> 生年月日)."""
    return translate(key.replace("_", " "))


def value_label(value: str, choices: typing.Iterable[str] = ()) -> str:
    """How an enumerated value of a field with these ``choices`` reads, in the page's language (:mod:`dossier_rules.labels`)."""
    from ..locale import language

    return labels.label(value, "ja" if language() == "ja" else "en", labels.enum_of(frozenset(choices)) if choices else None)


def field_names(model: type[BaseModel] | None = None) -> set[str]:
    """Every field name the form shows as a label, in words (for the message catalog; values are labelled by ``labels``)."""
    return {key.replace("_", " ") for cls in _models(model) for key in cls.model_fields}


def _models(model: type[BaseModel] | None) -> typing.Iterator[type[BaseModel]]:
    seen: set[type] = set()
    todo = [model] if model else list(KINDS.values())
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


def controls(model: type[BaseModel], data: dict[str, Any], errors: dict[str, str], prefix: str = "", declared: dict[str, Any] | None = None) -> list[Control]:
    """The controls of ``model``, filled from ``data`` (the draft) and showing ``errors`` (pointer -> message).

    ``declared`` are the country fields the chosen country's pack declares
    (``pack.dossier_fields``): they become the ``country_fields`` group, so
    only that country's extra fields appear; with none, the group is left out.
    """
    out = []
    for key, info in model.model_fields.items():
        if not prefix and key in FIXED:
            continue
        name = f"{prefix}{key}"
        if not prefix and key == COUNTRY_FIELDS:
            if declared:
                out.append(_country_group(declared, data.get(key) if isinstance(data.get(key), dict) else {}, errors))
            continue
        control = Control(name, key, field_label(key), "text", required=info.is_required(), help=info.description)
        value = data.get(key) if isinstance(data, dict) else None
        inner, nested = _base(info.annotation), _inner_model(info.annotation)
        if typing.get_origin(inner) is list and nested is not None:
            control.widget = "rows"
            items = value if isinstance(value, list) else []
            control.rows = [controls(nested, item if isinstance(item, dict) else {}, errors, f"{name}.{i}.") for i, item in enumerate(items[:MAX_ROWS])]
        elif nested is not None:
            control.widget = "group"
            control.children = controls(nested, value if isinstance(value, dict) else {}, errors, f"{name}.")
        elif typing.get_origin(inner) is list:
            control.widget = "csv"
            control.value = ", ".join(str(v) for v in value) if isinstance(value, list) else "" if value is None else str(value)
        else:
            _scalar(control, inner, value)
        control.error = errors.get(control.pointer)
        out.append(control)
    return out


def _country_group(declared: dict[str, Any], values: dict[str, Any], errors: dict[str, str]) -> Control:
    """The fields one country's pack declares, labelled with the pack's own titles."""
    from ..locale import language

    group = Control(COUNTRY_FIELDS, COUNTRY_FIELDS, field_label(COUNTRY_FIELDS), "group")
    for name, spec in declared.items():  # in the order the pack declares them
        control = Control(f"{COUNTRY_FIELDS}.{name}", name, getattr(spec.title, language()), "text")
        inner = {"bool": bool, "number": float, "date": datetime.date}.get(spec.type, str)
        if spec.choices:
            inner = Literal[tuple(spec.values)]  # type: ignore[valid-type]
        _scalar(control, inner, values.get(name))
        if spec.choices:  # each choice by the label the pack gives it
            index = 0 if language() == "ja" else 1
            control.choices = [(value, spec.labels().get(value, (text, text))[index] if value else text) for value, text in control.choices]
        control.error = errors.get(control.pointer)
        group.children.append(control)
    group.error = errors.get(group.pointer)
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


def dossier_from_form(model: type[BaseModel], form: dict[str, str], declared: dict[str, Any] | None = None) -> dict[str, Any]:
    """The dossier JSON a submitted form describes; empty controls are left out (not known, not false).

    Values are converted only where the control guarantees the form
    (numbers, yes/no); anything else goes to validation as typed, so the
    error says what is wrong with what the person entered.
    """
    tree: dict[str, Any] = {}
    for name, raw in form.items():
        value = raw.strip()
        if not value or name in ("csrf_token", "add", "remove") or name.startswith("_"):
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
            node[steps[-1]] = value
    extra = tree.pop(COUNTRY_FIELDS, None)
    out = _typed(model, tree)
    if isinstance(extra, dict) and declared:
        out[COUNTRY_FIELDS] = {k: _declared_value(declared[k].type, v) if k in declared else v for k, v in extra.items()}
    return out


def _declared_value(kind: str, value: Any) -> Any:
    if kind == "bool" and value in ("true", "false"):
        return value == "true"
    if kind == "number" and isinstance(value, str):
        return _number(value)
    return value


def _typed(model: type[BaseModel], tree: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        info = model.model_fields.get(key)
        if info is None:
            out[key] = value
            continue
        inner, nested = _base(info.annotation), _inner_model(info.annotation)
        if typing.get_origin(inner) is list and nested is not None and isinstance(value, dict):
            rows = [value[i] for i in sorted(value, key=lambda k: int(k) if k.isdigit() else MAX_ROWS) if i.isdigit()][:MAX_ROWS]
            out[key] = [_typed(nested, row) for row in rows if isinstance(row, dict) and row]
        elif nested is not None and isinstance(value, dict):
            out[key] = _typed(nested, value)
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
