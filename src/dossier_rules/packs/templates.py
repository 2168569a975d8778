"""Message templates: ``{field}`` and ``{@name}`` placeholders compiled against the dossier, and how values read in them.

A rule's message is compiled once at load into text and typed paths, so a
misspelt field is a load error with its line, and rendering a finding only
looks values up; :func:`show_value` words a dossier value (a code by its label,
never raw). The effect sentence that ends a block rule's message is here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import conditions as cond
from ..labels import enum_of, label
from ..sources import without_nulls
from .format import LANGS, Lang, Localized, RuleSpec

# --------------------------------------------------------------------------- compiled rules


PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Wording:
    """A ``{@name}`` placeholder: the words of the concrete pack's MOC (``pack.wording``), filled in when packs are linked."""

    name: str


@dataclass(frozen=True)
class Template:
    """A message with ``{path}`` placeholders, checked at load and filled from the dossier.

    As written in a pack it may also hold ``{@name}`` wordings; a rule's templates as a concrete pack applies
    them (:attr:`ResolvedRule.messages`) have those replaced by that MOC's words.
    """

    parts: tuple[str | cond.Path | Wording, ...]

    def render(self, env: cond.Env, lang: Lang) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, cond.Path):
                out.append(show_value(part.getter(env), lang, enum_name(part)))
            else:
                raise ValueError(f"wording {{@{part.name}}} is not resolved: render the templates of a linked pack's rule")
        return "".join(out)

    def wordings(self) -> set[str]:
        return {p.name for p in self.parts if isinstance(p, Wording)}

    def with_wording(self, wording: dict[str, Localized], lang: str) -> Template:
        """This template with every ``{@name}`` replaced by the words ``wording`` gives it in ``lang`` (adjacent text merged)."""
        parts: list[str | cond.Path | Wording] = []
        for part in self.parts:
            text = getattr(wording[part.name], lang) if isinstance(part, Wording) else part
            if isinstance(text, str) and parts and isinstance(parts[-1], str):
                parts[-1] += text
            else:
                parts.append(text)
        return Template(tuple(parts))


def enum_name(path: cond.Path) -> str | None:
    """The enumeration (:data:`dossier_rules.labels.ENUMS`) of the field a message quotes, or of its items; None for free text."""
    ftype = path.type.item if path.type.kind == "list" and path.type.item else path.type
    return ftype.vocabulary or enum_of(ftype.choices)


def show_value(value: Any, lang: Lang, enum: str | None = None) -> str:
    """How a dossier value reads inside a message: an enumerated code by its label in ``enum``, never raw."""
    if value.__class__ is str:  # most values quoted are text: checked first, as every finding's message calls this
        return label(value, lang, enum) if enum else value
    if value is None:
        return "記載なし" if lang == "ja" else "(not provided)"
    if isinstance(value, bool):
        return ("はい" if value else "いいえ") if lang == "ja" else ("yes" if value else "no")
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, (int, float)):
        return f"{value:,}"
    if isinstance(value, list):
        return ("、" if lang == "ja" else ", ").join(show_value(v, lang, enum) for v in value)
    if isinstance(value, dict):
        name = value.get("name") or value.get("id")
        return str(name) if name else str(without_nulls(value))
    return str(value)


def compile_template(text: str, scope: cond.Scope, line: int | None) -> Template:
    parts: list[str | cond.Path | Wording] = []
    pos = 0
    for match in PLACEHOLDER.finditer(text):
        parts.append(text[pos : match.start()])
        name = match.group(1).strip()
        if name.startswith("@"):
            if not re.fullmatch(r"@[a-z][a-z0-9_]*", name):
                raise cond.ConditionError(f"a wording placeholder is {{@name}} in lower-case letters, digits and '_', got {{{name}}}", line)
            parts.append(Wording(name[1:]))
        else:
            parts.append(cond.resolve(name, scope, line))
        pos = match.end()
    parts.append(text[pos:])
    return Template(tuple(p for p in parts if p != ""))


EMPTY_SCOPE = cond.Scope(cond.FieldType("object"))
"""Effect sentences read no dossier field: they are checked in a scope with none."""


def effect_sentences(spec: RuleSpec, wording: dict[str, Localized]) -> dict[str, str] | None:
    """The rule's effect sentence in a concrete pack's wording, as it ends the rule's messages (checked at load: no fields)."""
    if spec.effect is None:
        return None
    return {lang: "".join(map(str, compile_template(effect_text(spec, lang), EMPTY_SCOPE, None).with_wording(wording, lang).parts)) for lang in LANGS}


def effect_text(spec: RuleSpec, lang: str) -> str:
    """The rule's effect sentence as appended to its message ('' when it has none): see :attr:`RuleSpec.effect`."""
    if spec.effect is None:
        return ""
    text: str = getattr(spec.effect, lang)
    return text if lang == "ja" else " " + text
